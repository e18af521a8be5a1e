/**
 * Resolves `Authorization: Bearer …` to a principal: a raw user API key (`1ck_…`), or a JWT from the token
 * endpoints (an API-key token, a sign-in token or an agent token); a raw agent key is refused with a pointer to
 * its exchange.
 *
 * One query per request does all of it: it checks the credential against the database (the key still active,
 * the user still a member, the agent still active with the same key generation, the session generation
 * unchanged), reads the caller's current role, scopes and `vault_ids`, and, when the URL names a vault, loads
 * that vault and the caller's policies on it, and when the route reads a value, the version it names (with its
 * shares in an MPC vault). Revocation, removal and demotion therefore count from the next request on every
 * instance, and neither the access decision (policies/decide.ts) nor the read needs a further round trip. What
 * is loaded for a read is used only once the decision allowed it.
 */
import { equalBytes } from "@shardvault/crypto";
import type { Role } from "@shardvault/api";
import type { Queryable } from "../db/database.js";
import { unauthorized } from "../errors.js";
import { isUuid } from "../ids.js";
import { rulesJson, toRules } from "../policies/policy-queries.js";
import { pickVault, vaultColumns, type VaultRow } from "../vaults/vault-queries.js";
import { AGENT_KEY_PREFIX, hashApiKey, USER_KEY_PREFIX } from "./api-key.js";
import { readableFrom, readableVersionSql } from "../secrets/secret-queries.js";
import type { Principal, SecretRead } from "./principal.js";
import type { SigningKeys } from "./signing-keys.js";
import { createTokenVerifier, type TokenVerifier } from "./verified-tokens.js";

export type Authenticator = (authorization: string | undefined, opts?: { ip?: string; vaultId?: string; read?: SecretRead }) => Promise<Principal>;

export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
  if (!match) throw unauthorized("an Authorization: Bearer header is required");
  return match[1]!;
}

/** What the bearer token claims, checked for form and signature but not yet against the database. */
type Credential =
  | { kind: "user_key"; keyHash: Buffer }
  | { kind: "user_key_token"; keyId: string; userId: string; orgId: string }
  | { kind: "session"; userId: string; orgId: string; generation: number }
  | { kind: "agent"; agentId: string; orgId: string; generation: number };

async function readCredential(verify: TokenVerifier, authorization: string | undefined): Promise<Credential> {
  const token = bearerToken(authorization);
  if (token.startsWith(USER_KEY_PREFIX)) return { kind: "user_key", keyHash: hashApiKey(token) };
  // Agent keys are exchanged for a token (as 1claw's clients do); the contract lets only user keys be bearers.
  if (token.startsWith(AGENT_KEY_PREFIX)) {
    throw unauthorized("an agent API key (ocv_…) is not a bearer token: exchange it at POST /v1/auth/agent-token first");
  }
  const claims = await verify(token);
  const [kind, id] = claims.sub.split(":");
  // Ids reach the query as uuid parameters: a malformed one (only a forged token could carry it) is refused here.
  if (!id || !isUuid(id) || !isUuid(claims.org)) throw unauthorized("invalid token");
  if (kind === "user" && typeof claims.key_id === "string" && isUuid(claims.key_id)) return { kind: "user_key_token", keyId: claims.key_id, userId: id, orgId: claims.org };
  if (kind === "user" && Number.isInteger(claims.gen)) return { kind: "session", userId: id, orgId: claims.org, generation: claims.gen! };
  if (kind === "agent" && Number.isInteger(claims.gen)) return { kind: "agent", agentId: id, orgId: claims.org, generation: claims.gen! };
  throw unauthorized("invalid token");
}

const USER_KEY_LIVE = "k.is_active AND (k.expires_at IS NULL OR k.expires_at > now())";

/** The caller's row, per kind of credential: `p_*` columns, and the parameters it takes. */
function principalQuery(credential: Credential): { sql: string; params: unknown[] } {
  switch (credential.kind) {
    case "user_key":
      return {
        sql: `SELECT 'user'::text AS p_kind, u.id AS p_id, u.org_id AS p_org, u.role AS p_role, k.scopes AS p_scopes, NULL::uuid[] AS p_vault_ids, k.key_hash AS p_key_hash
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND ${USER_KEY_LIVE}`,
        params: [credential.keyHash],
      };
    case "user_key_token":
      return {
        sql: `SELECT 'user'::text AS p_kind, u.id AS p_id, u.org_id AS p_org, u.role AS p_role, k.scopes AS p_scopes, NULL::uuid[] AS p_vault_ids, NULL::bytea AS p_key_hash
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1 AND k.user_id = $2 AND k.org_id = $3 AND ${USER_KEY_LIVE}`,
        params: [credential.keyId, credential.userId, credential.orgId],
      };
    case "session":
      return {
        sql: `SELECT 'user'::text AS p_kind, u.id AS p_id, u.org_id AS p_org, u.role AS p_role, '{}'::text[] AS p_scopes, NULL::uuid[] AS p_vault_ids, NULL::bytea AS p_key_hash
                FROM users u WHERE u.id = $1 AND u.org_id = $2 AND u.session_generation = $3`,
        params: [credential.userId, credential.orgId, credential.generation],
      };
    case "agent":
      return {
        sql: `SELECT 'agent'::text AS p_kind, a.id AS p_id, a.org_id AS p_org, NULL::text AS p_role, a.scopes AS p_scopes, a.vault_ids AS p_vault_ids, NULL::bytea AS p_key_hash
                FROM agents a WHERE a.id = $1 AND a.org_id = $2 AND a.is_active AND a.key_generation = $3 AND (a.expires_at IS NULL OR a.expires_at > now())`,
        params: [credential.agentId, credential.orgId, credential.generation],
      };
  }
}

type AccessRow = Partial<VaultRow> & {
  p_kind: "user" | "agent";
  p_id: string;
  p_org: string;
  p_role: Role | null;
  p_scopes: string[];
  p_vault_ids: string[] | null;
  p_key_hash: Uint8Array | null;
  p_rules: unknown;
};

const REFUSED: Record<Credential["kind"], string> = {
  user_key: "missing or invalid credentials",
  user_key_token: "the API key this token was issued from is revoked",
  session: "the session has ended (the member was removed or the password changed)",
  agent: "the agent is inactive or its key was rotated",
};

export function createAuthenticator(db: Queryable, keys: SigningKeys): Authenticator {
  const verify = createTokenVerifier(keys);
  return async (authorization, opts = {}) => {
    const credential = await readCredential(verify, authorization);
    const principal = principalQuery(credential);
    // A vault id that is not a UUID names no vault: it is not sent as a uuid parameter.
    const vaultId = opts.vaultId !== undefined && isUuid(opts.vaultId) ? opts.vaultId.toLowerCase() : null;
    const at = principal.params.length + 1;
    const read = vaultId !== null ? opts.read : undefined;
    const secret = read && readableVersionSql(at + 1, read.version === undefined ? undefined : at + 2);
    const [row] = await db.query<AccessRow>(
      `WITH p AS (${principal.sql})
       SELECT p.*, ${vaultColumns("v")},
              (SELECT ${rulesJson("x")} FROM policies x WHERE x.vault_id = v.id AND x.principal_id = p.p_id AND x.principal_type = p.p_kind) AS p_rules
              ${secret ? `, ${secret.columns}` : ""}
         FROM p LEFT JOIN vaults v ON v.id = $${at}::uuid AND v.org_id = p.p_org
         ${secret ? secret.joins : ""}`,
      [...principal.params, vaultId, ...(read ? [read.path, ...(read.version === undefined ? [] : [read.version])] : [])],
    );
    // The key's hash was found through the unique index; it is compared again in constant time.
    if (!row || (credential.kind === "user_key" && !(row.p_key_hash && equalBytes(row.p_key_hash, credential.keyHash)))) {
      throw unauthorized(REFUSED[credential.kind]);
    }
    const { p_kind, p_id, p_org, p_role, p_scopes, p_vault_ids, p_key_hash: _hash, p_rules, ...rest } = row;
    // The read's `s_*` columns are not the vault's.
    const vault = read ? pickVault(rest) : rest;
    return {
      type: p_kind,
      id: p_id,
      orgId: p_org,
      scopes: p_scopes,
      ...(p_role ? { role: p_role } : {}),
      ...(p_vault_ids ? { vaultIds: p_vault_ids } : {}),
      ...(opts.ip !== undefined ? { ip: opts.ip } : {}),
      ...(opts.vaultId !== undefined
        ? {
            loaded: {
              vaultId: vaultId ?? opts.vaultId,
              vault: vault.id ? (vault as VaultRow) : undefined,
              policies: toRules(p_rules),
              ...(read ? { secret: { ...read, found: readableFrom(row as unknown as Record<string, unknown>) } } : {}),
            },
          }
        : {}),
    };
  };
}
