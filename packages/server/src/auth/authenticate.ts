/**
 * Resolves `Authorization: Bearer …` to a principal: a raw user API key (`1ck_…`), or a JWT from the token
 * endpoints (a raw agent key is refused with a pointer to its exchange). Every JWT is checked against the database on each request (its API key still active, its
 * agent still active with the same key generation), so revocation takes effect at once.
 */
import { equalBytes } from "@shardvault/crypto";
import type { Queryable } from "../db/database.js";
import { unauthorized } from "../errors.js";
import { AGENT_KEY_PREFIX, hashApiKey, USER_KEY_PREFIX } from "./api-key.js";
import type { Principal } from "./principal.js";
import type { SigningKeys } from "./signing-keys.js";
import { verifyToken } from "./tokens.js";

export type Authenticator = (authorization: string | undefined, ip?: string) => Promise<Principal>;

export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("an Authorization: Bearer header is required");
  return match[1]!;
}

interface UserKeyRow {
  id: string;
  key_hash: Uint8Array;
  user_id: string;
  org_id: string;
}

/** Finds an active user API key by its hash (unique index), compared again in constant time. */
export async function findUserKey(db: Queryable, key: string): Promise<UserKeyRow | undefined> {
  if (!key.startsWith(USER_KEY_PREFIX)) return undefined;
  const hash = hashApiKey(key);
  const [row] = await db.query<UserKeyRow>(
    `SELECT id, key_hash, user_id, org_id FROM api_keys
      WHERE key_hash = $1 AND is_active AND (expires_at IS NULL OR expires_at > now())`,
    [hash],
  );
  return row && equalBytes(row.key_hash, hash) ? row : undefined;
}

export function createAuthenticator(db: Queryable, keys: SigningKeys): Authenticator {
  return async (authorization, ip) => {
    const token = bearerToken(authorization);
    if (token.startsWith(USER_KEY_PREFIX)) {
      const row = await findUserKey(db, token);
      if (!row) throw unauthorized();
      return { type: "user", id: row.user_id, orgId: row.org_id, ip };
    }
    // Agent keys are exchanged for a token (as 1claw's clients do); the contract lets only user keys be bearers.
    if (token.startsWith(AGENT_KEY_PREFIX)) {
      throw unauthorized("an agent API key (ocv_…) is not a bearer token: exchange it at POST /v1/auth/agent-token first");
    }
    const claims = await verifyToken(keys, token);
    const [kind, id] = claims.sub.split(":");
    if (kind === "user" && claims.key_id) {
      const [row] = await db.query<{ user_id: string; org_id: string }>(
        `SELECT user_id, org_id FROM api_keys WHERE id = $1 AND is_active AND (expires_at IS NULL OR expires_at > now())`,
        [claims.key_id],
      );
      if (!row || row.user_id !== id || row.org_id !== claims.org) throw unauthorized("the API key this token was issued from is revoked");
      return { type: "user", id: row.user_id, orgId: row.org_id, ip };
    }
    if (kind === "agent" && claims.gen !== undefined) {
      const [row] = await db.query<{ org_id: string; vault_ids: string[] }>(
        `SELECT org_id, vault_ids FROM agents
          WHERE id = $1 AND is_active AND key_generation = $2 AND (expires_at IS NULL OR expires_at > now())`,
        [id, claims.gen],
      );
      if (!row || row.org_id !== claims.org) throw unauthorized("the agent is inactive or its key was rotated");
      return { type: "agent", id: id!, orgId: row.org_id, vaultIds: row.vault_ids, ip };
    }
    throw unauthorized("invalid token");
  };
}
