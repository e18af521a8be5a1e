/** Resolves the `Authorization: Bearer …` header to a principal. */
import { equalBytes } from "@shardvault/crypto";
import type { Queryable } from "../db/database.js";
import { unauthorized } from "../errors.js";
import { hashApiKey, USER_KEY_PREFIX } from "./api-key.js";
import type { Principal } from "./principal.js";

export type Authenticator = (authorization: string | undefined) => Promise<Principal>;

export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("an Authorization: Bearer header is required");
  return match[1]!;
}

/** Authenticates a raw user API key used directly as the bearer token. */
export async function authenticateUserKey(db: Queryable, key: string): Promise<Principal> {
  if (!key.startsWith(USER_KEY_PREFIX)) throw unauthorized();
  const hash = hashApiKey(key);
  const [row] = await db.query<{ key_hash: Uint8Array; user_id: string; org_id: string }>(
    `SELECT k.key_hash, k.user_id, k.org_id FROM api_keys k
      WHERE k.key_hash = $1 AND k.is_active AND (k.expires_at IS NULL OR k.expires_at > now())`,
    [hash],
  );
  if (!row || !equalBytes(row.key_hash, hash)) throw unauthorized();
  return { type: "user", id: row.user_id, orgId: row.org_id };
}
