/**
 * First start on an empty database: the organization, an admin user and the admin's user API key. Runs under
 * the start-up advisory lock, so of several instances starting at once exactly one bootstraps.
 */
import { equalBytes } from "@shardvault/crypto";
import type { Database } from "../db/database.js";
import type { Logger } from "../log.js";
import { createOrganization } from "../orgs/org-service.js";
import { hashApiKey } from "./api-key.js";

/** Its lines belong to the plain start-up summary (server.ts), not to the JSON logs. */
export async function bootstrap(db: Database, configuredAdminKey: string | undefined, log: Logger): Promise<void> {
  // The first-start key may be gone with its owner (removed as a member): the bootstrap row still says "done".
  const [existing] = await db.query<{ key_hash: Uint8Array | null }>(
    "SELECT k.key_hash FROM bootstrap b LEFT JOIN api_keys k ON k.id = b.admin_key_id",
  );
  if (existing) {
    if (configuredAdminKey !== undefined && !(existing.key_hash && equalBytes(existing.key_hash, hashApiKey(configuredAdminKey)))) {
      log.raw("[shardvault] WARNING: SHARDVAULT_ADMIN_API_KEY differs from the admin key created at first start; it is ignored");
    }
    return;
  }
  const adminKey = await db.transaction(async (tx) => {
    const org = await createOrganization(tx, "default", configuredAdminKey);
    await tx.query("INSERT INTO bootstrap (org_id, admin_user_id, admin_key_id) VALUES ($1, $2, $3)", [org.orgId, org.adminUserId, org.adminKeyId]);
    return org.adminApiKey;
  });
  if (configuredAdminKey === undefined) {
    // The one place a key is printed, by design: the operator needs it, and it is never shown again.
    log.raw(`Admin API key (shown once): ${adminKey}`);
  } else {
    log.raw("[shardvault] Admin API key set from SHARDVAULT_ADMIN_API_KEY");
  }
}
