/** The `secret_shares` table. */
import type { ShareRecipientType } from "@shardvault/api";
import type { Queryable } from "../db/database.js";

export interface ShareRow {
  id: string;
  org_id: string;
  vault_id: string;
  version_id: string;
  recipient_type: ShareRecipientType;
  recipient_id: string | null;
  recipient_email: string | null;
  passphrase_hash: string | null;
  ip_allowlist: string[] | null;
  sealed_value: Uint8Array | null;
  expires_at: Date;
  max_access_count: number | null;
  access_count: number;
  created_by: string;
  created_by_type: "user" | "agent";
  created_at: Date;
  accepted_at: Date | null;
  declined_at: Date | null;
  revoked_at: Date | null;
}

/** A share with the path and type of the version it serves. */
export interface ShareWithSecret extends ShareRow {
  path: string;
  type: string;
  version: number;
}

export type NewShare = Omit<ShareRow, "access_count" | "created_at" | "accepted_at" | "declined_at" | "revoked_at">;

const COLUMNS = [
  "id", "org_id", "vault_id", "version_id", "recipient_type", "recipient_id", "recipient_email", "passphrase_hash", "ip_allowlist",
  "sealed_value", "expires_at", "max_access_count", "access_count", "created_by", "created_by_type", "created_at", "accepted_at",
  "declined_at", "revoked_at",
];
const SHARE = COLUMNS.map((c) => `s.${c}`).join(", ");

/** Opens while it is not revoked nor declined, unexpired, and under its access limit. */
const OPENS = "s.revoked_at IS NULL AND s.declined_at IS NULL AND s.expires_at > now() AND (s.max_access_count IS NULL OR s.access_count < s.max_access_count)";

export async function insertShare(db: Queryable, share: NewShare): Promise<void> {
  const names = Object.keys(share) as Array<keyof NewShare>;
  await db.query(
    `INSERT INTO secret_shares (${names.join(", ")}) VALUES (${names.map((_, i) => `$${i + 1}`).join(", ")})`,
    names.map((name) => share[name]),
  );
}

/** A share that still opens, with its version's path and type; undefined for any other. */
export async function findOpenShare(db: Queryable, shareId: string): Promise<ShareWithSecret | undefined> {
  const [row] = await db.query<ShareWithSecret>(
    `SELECT ${SHARE}, v.path, v.type, v.version FROM secret_shares s JOIN secret_versions v ON v.id = s.version_id WHERE s.id = $1 AND ${OPENS}`,
    [shareId],
  );
  return row;
}

/**
 * Counts one open, atomically: only while the share still opens, so of N concurrent opens of a one-time share
 * exactly one is counted, and none after a revocation has committed. Answers the new count.
 */
export async function countShareAccess(db: Queryable, shareId: string): Promise<number | undefined> {
  const [row] = await db.query<{ access_count: number }>(
    `UPDATE secret_shares s SET access_count = s.access_count + 1 WHERE s.id = $1 AND ${OPENS} RETURNING s.access_count`,
    [shareId],
  );
  return row?.access_count;
}

/** Revokes a share of the organization not yet revoked; answers it, or undefined. */
export async function revokeShare(db: Queryable, orgId: string, shareId: string): Promise<ShareRow | undefined> {
  const [row] = await db.query<ShareRow>(
    `UPDATE secret_shares s SET revoked_at = now() WHERE s.id = $1 AND s.org_id = $2 AND s.revoked_at IS NULL RETURNING ${SHARE}`,
    [shareId, orgId],
  );
  return row;
}

/** A share of the organization, revoked or not (who may revoke it is the caller's decision). */
export async function findShare(db: Queryable, orgId: string, shareId: string): Promise<ShareRow | undefined> {
  const [row] = await db.query<ShareRow>(`SELECT ${SHARE} FROM secret_shares s WHERE s.id = $1 AND s.org_id = $2`, [shareId, orgId]);
  return row;
}

export interface ShareListRow {
  id: string;
  secret_path: string;
  recipient_type: ShareRecipientType;
  recipient_email: string | null;
  access_count: number;
  max_access_count: number | null;
  expires_at: Date;
  created_at: Date;
  is_expired: boolean;
  is_accepted: boolean;
}

const LIST = `SELECT s.id, v.path AS secret_path, s.recipient_type, s.recipient_email, s.access_count, s.max_access_count, s.expires_at,
         s.created_at, NOT (${OPENS}) AS is_expired, s.accepted_at IS NOT NULL AS is_accepted
    FROM secret_shares s JOIN secret_versions v ON v.id = s.version_id`;

/** Shares the principal made, newest first; revoked ones are gone. */
export async function listOutbound(db: Queryable, orgId: string, principalId: string): Promise<ShareListRow[]> {
  return db.query<ShareListRow>(`${LIST} WHERE s.org_id = $1 AND s.created_by = $2 AND s.revoked_at IS NULL ORDER BY s.created_at DESC, s.id`, [orgId, principalId]);
}

/**
 * Shares made for the principal (by id; for a member also `external_email` shares to its address), newest first;
 * revoked and declined ones are gone.
 */
export async function listInbound(db: Queryable, orgId: string, principalId: string, email: string | null): Promise<ShareListRow[]> {
  return db.query<ShareListRow>(
    `${LIST} WHERE s.org_id = $1 AND (s.recipient_id = $2 OR lower(s.recipient_email) = lower($3)) AND s.revoked_at IS NULL AND s.declined_at IS NULL
      ORDER BY s.created_at DESC, s.id`,
    [orgId, principalId, email],
  );
}

/** Records the recipient's answer on a share made for it that is neither revoked nor declined; false when there is none. */
export async function answerShare(db: Queryable, shareId: string, recipient: { orgId: string; id: string; email: string | null }, answer: "accept" | "decline"): Promise<boolean> {
  const set = answer === "accept" ? "accepted_at = coalesce(s.accepted_at, now())" : "declined_at = now()";
  const rows = await db.query(
    `UPDATE secret_shares s SET ${set}
      WHERE s.id = $1 AND s.org_id = $2 AND (s.recipient_id = $3 OR lower(s.recipient_email) = lower($4)) AND s.revoked_at IS NULL AND s.declined_at IS NULL
      RETURNING s.id`,
    [shareId, recipient.orgId, recipient.id, recipient.email],
  );
  return rows.length > 0;
}

/** An active agent of the organization, with the user who registered it (a `creator` share goes to that user). */
export async function findActiveAgent(db: Queryable, orgId: string, agentId: string): Promise<{ id: string; created_by: string } | undefined> {
  const [row] = await db.query<{ id: string; created_by: string }>("SELECT id, created_by FROM agents WHERE id = $1 AND org_id = $2 AND is_active", [agentId, orgId]);
  return row;
}
