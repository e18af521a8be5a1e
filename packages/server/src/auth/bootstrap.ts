/**
 * First start on an empty database: the organization, an admin user and the admin's user API key. Runs under
 * the start-up advisory lock, so of several instances starting at once exactly one bootstraps.
 */
import { randomUUID } from "node:crypto";
import { equalBytes } from "@shardvault/crypto";
import type { Database } from "../db/database.js";
import type { Logger } from "../log.js";
import { displayPrefix, generateApiKey, hashApiKey, USER_KEY_PREFIX } from "./api-key.js";

export async function bootstrap(db: Database, configuredAdminKey: string | undefined, log: Logger): Promise<void> {
  const [existing] = await db.query<{ key_hash: Uint8Array }>(
    "SELECT k.key_hash FROM bootstrap b JOIN api_keys k ON k.id = b.admin_key_id",
  );
  if (existing) {
    if (configuredAdminKey !== undefined && !equalBytes(existing.key_hash, hashApiKey(configuredAdminKey))) {
      log.warn("SHARDVAULT_ADMIN_API_KEY differs from the admin key created at first start; it is ignored");
    }
    return;
  }
  const adminKey = configuredAdminKey ?? generateApiKey(USER_KEY_PREFIX);
  const orgId = randomUUID();
  const userId = randomUUID();
  const keyId = randomUUID();
  await db.transaction(async (tx) => {
    await tx.query("INSERT INTO organizations (id, name) VALUES ($1, $2)", [orgId, "default"]);
    await tx.query("INSERT INTO users (id, org_id, name, role) VALUES ($1, $2, $3, 'admin')", [userId, orgId, "admin"]);
    await tx.query(
      "INSERT INTO api_keys (id, org_id, user_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5, $6)",
      [keyId, orgId, userId, "admin (bootstrap)", hashApiKey(adminKey), displayPrefix(adminKey)],
    );
    await tx.query("INSERT INTO bootstrap (org_id, admin_user_id, admin_key_id) VALUES ($1, $2, $3)", [orgId, userId, keyId]);
  });
  if (configuredAdminKey === undefined) {
    // The one place a key is printed, by design: the operator needs it, and it is never shown again.
    log.raw(`Admin API key (shown once): ${adminKey}`);
  } else {
    log.info("Admin API key set from SHARDVAULT_ADMIN_API_KEY");
  }
}
