/**
 * `shardvault admin create-key`: recovery when no owner can reach the API (the first start's key lost, say).
 * Run on the server's machine against its database, it issues a new API key to an owner of the first-start
 * organization — the one with `email`, else the first-start owner while it still is one, else the earliest
 * owner — and records `api_key.create` (details `via: "admin create-key"`) in the same transaction, chained like
 * every event (so the caller brings the audit log, built with the chain key). Whoever can run it can read the
 * database and the key files anyway: it grants nothing they do not hold.
 */
import { randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/audit.js";
import { displayPrefix, generateApiKey, hashApiKey, USER_KEY_PREFIX } from "../auth/api-key.js";
import type { Database } from "../db/database.js";

export class AdminKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdminKeyError";
  }
}

export interface IssuedOwnerKey {
  apiKey: string;
  keyId: string;
  userId: string;
  /** The owner's email, or its display name when it has none (the first-start owner). */
  owner: string;
}

export const RECOVERY_KEY_NAME = "admin recovery (shardvault admin create-key)";

export async function createOwnerKey(db: Database, audit: AuditLog, opts: { email?: string } = {}): Promise<IssuedOwnerKey> {
  const [bootstrap] = await db.query<{ org_id: string; admin_user_id: string }>("SELECT org_id, admin_user_id FROM bootstrap");
  if (!bootstrap) throw new AdminKeyError("this database has no organization yet: start the server once");
  const [owner] = await db.query<{ id: string; email: string | null; display_name: string }>(
    `SELECT id, email, display_name FROM users
      WHERE org_id = $1 AND role = 'owner' AND ($2::text IS NULL OR lower(email) = lower($2))
      ORDER BY id = $3 DESC, created_at, id LIMIT 1`,
    [bootstrap.org_id, opts.email ?? null, bootstrap.admin_user_id],
  );
  if (!owner) throw new AdminKeyError(opts.email ? `no owner has the email ${opts.email}` : "the organization has no owner");
  const apiKey = generateApiKey(USER_KEY_PREFIX);
  const keyId = randomUUID();
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO api_keys (id, org_id, user_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5, $6)", [
      keyId,
      bootstrap.org_id,
      owner.id,
      RECOVERY_KEY_NAME,
      hashApiKey(apiKey),
      displayPrefix(apiKey),
    ]);
    // The transaction's last statement: it locks the organization's chain head until the commit.
    await audit.recordIn(tx, { type: "user", id: owner.id, orgId: bootstrap.org_id }, {
      action: "api_key.create",
      resourceType: "api_key",
      resourceId: keyId,
      details: { name: RECOVERY_KEY_NAME, via: "admin create-key" },
    });
  });
  return { apiKey, keyId, userId: owner.id, owner: owner.email ?? owner.display_name };
}
