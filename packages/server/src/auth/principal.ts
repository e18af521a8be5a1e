/** Who is making a request, as established by authentication, and what was loaded about them with it. */
import type { Role } from "@shardvault/api";
import type { PolicyRule, Subject } from "../policies/decide.js";
import type { ReadableVersion } from "../secrets/secret-queries.js";
import type { VaultRow } from "../vaults/vault-queries.js";

export interface Principal {
  type: "user" | "agent";
  id: string;
  orgId: string;
  /** Users: their role, read from the database on each request (a demotion counts from the next request). */
  role?: Role;
  /** The scopes of the key or agent the request came from, read on each request; empty: no narrowing. */
  scopes: readonly string[];
  /** Agents: the vaults their policies may reach, read on each request; empty: no bound. */
  vaultIds?: readonly string[];
  /** The client's address, for the audit log and `ip_allowlist` conditions. */
  ip?: string;
  /**
   * The vault the request's URL names, loaded in the same query that checked the credential, with the caller's
   * policies on it: what the access decision needs, without another round trip.
   */
  loaded?: LoadedVault;
}

/** A vault as loaded for a caller: absent when no vault of the caller's organization has that id. */
export interface LoadedVault {
  vaultId: string;
  vault: VaultRow | undefined;
  policies: PolicyRule[];
  /** A value read's version, when the route named one (`SecretRead`), loaded in the same statement. */
  secret?: LoadedSecret;
}

/** The path and version (absent: the newest live one) a value read names. */
export interface SecretRead {
  path: string;
  version?: number;
}

/** What was found for a `SecretRead`: undefined when no such version (or no such vault). */
export interface LoadedSecret extends SecretRead {
  found: ReadableVersion | undefined;
}

/** The principal as the access decision sees it. */
export function subjectOf(principal: Principal): Subject {
  return {
    kind: principal.type,
    id: principal.id,
    ...(principal.role ? { role: principal.role } : {}),
    ...(principal.vaultIds ? { vaultIds: principal.vaultIds } : {}),
  };
}
