/** The signed-in API client, shared by every page. */
import { createContext, useContext } from "react";
import type { ShardvaultClient } from "@shardvault/sdk";

export const ClientContext = createContext<ShardvaultClient | null>(null);

export function useClient(): ShardvaultClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside a signed-in session");
  return client;
}
