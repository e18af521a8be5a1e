/** Token exchange and user API key management. */
import { randomUUID } from "node:crypto";
import { equalBytes } from "@shardvault/crypto";
import { ANONYMOUS_ID, type AuditLog } from "../audit/audit.js";
import type { Database, Queryable } from "../db/database.js";
import { notFound, refused, unauthorized } from "../errors.js";
import { findUsersByEmail } from "../orgs/member-queries.js";
import { scopeAllows, unscoped } from "../policies/decide.js";
import { isUuid } from "../ids.js";
import { futureExpiry, isoTime as iso } from "../times.js";
import { AGENT_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey, USER_KEY_PREFIX } from "./api-key.js";
import { createDecoyVerifier, passwordMatches } from "./passwords.js";
import type { Principal } from "./principal.js";
import { requireUnscoped } from "./roles.js";
import type { SigningKeys } from "./signing-keys.js";
import { issueSessionToken, issueToken, USER_TOKEN_TTL_SECONDS } from "./tokens.js";

export interface ApiKeyView {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  is_active: boolean;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  is_active: boolean;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}

const toKeyView = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  key_prefix: row.key_prefix,
  scopes: row.scopes,
  is_active: row.is_active,
  created_at: iso(row.created_at)!,
  expires_at: iso(row.expires_at),
  last_used_at: iso(row.last_used_at),
});
const KEY_COLUMNS = "id, name, key_prefix, scopes, is_active, created_at, expires_at, last_used_at";

export const DEFAULT_AGENT_TOKEN_TTL_SECONDS = 3600;

interface UserKeyRow {
  id: string;
  key_hash: Uint8Array;
  user_id: string;
  org_id: string;
}

/** Finds an active user API key by its hash (unique index), compared again in constant time. */
async function findUserKey(db: Queryable, key: string): Promise<UserKeyRow | undefined> {
  if (!key.startsWith(USER_KEY_PREFIX)) return undefined;
  const hash = hashApiKey(key);
  const [row] = await db.query<UserKeyRow>(
    `SELECT id, key_hash, user_id, org_id FROM api_keys
      WHERE key_hash = $1 AND is_active AND (expires_at IS NULL OR expires_at > now())`,
    [hash],
  );
  return row && equalBytes(row.key_hash, hash) ? row : undefined;
}

/** The one answer to every failed sign-in, whatever failed. */
const SIGN_IN_REFUSED = "invalid email or password";

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: { db: Database; keys: SigningKeys; audit: AuditLog }) {
  const { db, keys, audit } = deps;
  const decoy = createDecoyVerifier();
  let deploymentOrgId: string | undefined;
  const deploymentOrg = async () => (deploymentOrgId ??= (await db.query<{ org_id: string }>("SELECT org_id FROM bootstrap"))[0]!.org_id);
  return {
    /**
     * Sign-in by email and password. An unknown email, a member without a password and a wrong password get the
     * same 401 after the same work (one argon2id verification, one audit event), so neither the answer nor its
     * timing tells whether the email is a member's. The refusal is audited with the reason, never the password
     * (nor, for an unknown email, the email: people type passwords into email fields).
     */
    async signIn(email: string, password: string, ip: string | undefined) {
      // Emails are unique per organization: one deployment may hold the same email in several.
      const candidates = (await findUsersByEmail(db, email)).filter((u) => u.password_hash !== null);
      let user: (typeof candidates)[number] | undefined;
      for (const candidate of candidates) {
        if (await passwordMatches(candidate.password_hash!, password)) {
          user = candidate;
          break;
        }
      }
      if (candidates.length === 0) await decoy(password);
      const at = ip === undefined ? {} : { ip };
      if (!user) {
        const [known] = candidates;
        // An unknown email belongs to no organization: its refusal goes to the deployment's (the first-start one).
        const orgId = known?.org_id ?? (await deploymentOrg());
        await audit.record(known ? { type: "user", id: known.id, orgId, ...at } : { type: "anonymous", id: ANONYMOUS_ID, orgId, ...at }, {
          action: "auth.login_refused",
          resourceType: "user",
          resourceId: known?.id ?? ANONYMOUS_ID,
          details: { reason: known ? "wrong_password" : "unknown_email" },
        });
        throw unauthorized(SIGN_IN_REFUSED);
      }
      await audit.record({ type: "user", id: user.id, orgId: user.org_id, ...at }, { action: "auth.login", resourceType: "user", resourceId: user.id, details: { method: "password" } });
      return issueSessionToken(keys, user);
    },

    async userToken(apiKey: string) {
      const row = await findUserKey(db, apiKey);
      if (!row) throw unauthorized("invalid API key");
      await db.query("UPDATE api_keys SET last_used_at = now() WHERE id = $1", [row.id]);
      const token = await issueToken(keys, { sub: `user:${row.user_id}`, org: row.org_id, key_id: row.id }, USER_TOKEN_TTL_SECONDS);
      return { access_token: token, token_type: "Bearer", expires_in: USER_TOKEN_TTL_SECONDS };
    },

    /** Agent token from the agent's `ocv_` key; `agent_id` is optional (1claw's SDK sends none). */
    async agentToken(apiKey: string, agentId?: string) {
      if (!apiKey.startsWith(AGENT_KEY_PREFIX)) throw unauthorized("invalid agent API key");
      const hash = hashApiKey(apiKey);
      const [row] = await db.query<{
        id: string;
        org_id: string;
        key_hash: Uint8Array;
        key_generation: number;
        scopes: string[];
        vault_ids: string[];
        token_ttl_seconds: number | null;
      }>(
        `SELECT id, org_id, key_hash, key_generation, scopes, vault_ids, token_ttl_seconds FROM agents
          WHERE key_hash = $1 AND is_active AND (expires_at IS NULL OR expires_at > now())`,
        [hash],
      );
      if (!row || !equalBytes(row.key_hash, hash) || (agentId !== undefined && agentId.toLowerCase() !== row.id)) {
        throw unauthorized("invalid agent API key");
      }
      await db.query("UPDATE agents SET last_used_at = now() WHERE id = $1", [row.id]);
      const ttl = row.token_ttl_seconds ?? DEFAULT_AGENT_TOKEN_TTL_SECONDS;
      const token = await issueToken(
        keys,
        { sub: `agent:${row.id}`, org: row.org_id, gen: row.key_generation, scopes: row.scopes, vault_ids: row.vault_ids },
        ttl,
      );
      return { access_token: token, token_type: "Bearer", expires_in: ttl, agent_id: row.id, vault_ids: row.vault_ids };
    },

    /** A new key never holds more than the caller's credentials: a scoped caller mints only keys within its scopes. */
    async createKey(user: Principal, input: { name: string; scopes?: string[]; expires_at?: string }) {
      const scopes = input.scopes ?? [];
      if (unscoped(scopes)) requireUnscoped(user, "creating an API key without scopes");
      const missing = scopes.find((scope) => !scopeAllows(user.scopes, scope));
      if (missing) throw refused(403, "scope_missing", `the new key may not hold ${missing}: your credentials lack that scope`, { scope: missing });
      const expiresAt = input.expires_at === undefined ? null : futureExpiry(input.expires_at);
      const apiKey = generateApiKey(USER_KEY_PREFIX);
      const id = randomUUID();
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx.query<ApiKeyRow>(
          `INSERT INTO api_keys (id, org_id, user_id, name, key_hash, key_prefix, scopes, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${KEY_COLUMNS}`,
          [id, user.orgId, user.id, input.name, hashApiKey(apiKey), displayPrefix(apiKey), scopes, expiresAt],
        );
        await audit.recordIn(tx, user, { action: "api_key.create", resourceType: "api_key", resourceId: id, details: { name: input.name } });
        return inserted!;
      });
      return { key: toKeyView(row), api_key: apiKey };
    },

    async listKeys(user: Principal) {
      const rows = await db.query<ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 AND user_id = $2 ORDER BY created_at`, [
        user.orgId,
        user.id,
      ]);
      return rows.map(toKeyView);
    },

    async revokeKey(user: Principal, keyId: string) {
      await db.transaction(async (tx) => {
        const rows = isUuid(keyId)
          ? await tx.query("UPDATE api_keys SET is_active = false WHERE id = $1 AND org_id = $2 AND user_id = $3 RETURNING id", [keyId, user.orgId, user.id])
          : [];
        if (rows.length === 0) throw notFound("api_key_not_found", `API key ${keyId} not found`);
        await audit.recordIn(tx, user, { action: "api_key.revoke", resourceType: "api_key", resourceId: keyId });
      });
    },
  };
}
