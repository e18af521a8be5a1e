/** The signed-in API client, and who is signed in, shared by every page. */
import { createContext, useContext } from "react";
import type { Member, ShardvaultClient } from "@shardvault/sdk";

export const ClientContext = createContext<ShardvaultClient | null>(null);

export function useClient(): ShardvaultClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside a signed-in session");
  return client;
}

/**
 * The signed-in member (`GET /v1/auth/me`), or null until it is known. Pages use it only to offer what the
 * member may do; the server decides every request on its own.
 */
export const MeContext = createContext<Member | null>(null);

export const useMe = () => useContext(MeContext);
