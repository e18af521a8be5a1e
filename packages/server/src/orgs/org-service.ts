/** Organizations: each with its owner (the admin user of the first start) and that user's first API key. */
import { randomUUID } from "node:crypto";
import type { Queryable } from "../db/database.js";
import { displayPrefix, generateApiKey, hashApiKey, USER_KEY_PREFIX } from "../auth/api-key.js";

export interface CreatedOrganization {
  orgId: string;
  adminUserId: string;
  adminKeyId: string;
  /** The admin's user API key, in full: shown once by the caller, stored only as a hash. */
  adminApiKey: string;
}

/** Creates an organization, its admin user and the admin's API key, inside the caller's transaction. */
export async function createOrganization(tx: Queryable, name: string, adminApiKey = generateApiKey(USER_KEY_PREFIX)): Promise<CreatedOrganization> {
  const created = { orgId: randomUUID(), adminUserId: randomUUID(), adminKeyId: randomUUID(), adminApiKey };
  await tx.query("INSERT INTO organizations (id, name) VALUES ($1, $2)", [created.orgId, name]);
  await tx.query("INSERT INTO users (id, org_id, display_name, role) VALUES ($1, $2, $3, 'owner')", [created.adminUserId, created.orgId, "admin"]);
  await tx.query("INSERT INTO api_keys (id, org_id, user_id, name, key_hash, key_prefix) VALUES ($1, $2, $3, $4, $5, $6)", [
    created.adminKeyId,
    created.orgId,
    created.adminUserId,
    "admin (bootstrap)",
    hashApiKey(adminApiKey),
    displayPrefix(adminApiKey),
  ]);
  return created;
}
