import type { Role } from "@shardvault/api";
import type { Queryable } from "../db/database.js";

export interface UserRow {
  id: string;
  org_id: string;
  email: string | null;
  display_name: string;
  role: Role;
  password_hash: string | null;
  session_generation: number;
  created_at: Date;
}

const COLUMNS = "id, org_id, email, display_name, role, password_hash, session_generation, created_at";

export async function findUser(db: Queryable, orgId: string, userId: string): Promise<UserRow | undefined> {
  const [row] = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1 AND org_id = $2`, [userId, orgId]);
  return row;
}

/** Users with this email, compared case-insensitively, in any organization (sign-in names none). */
export async function findUsersByEmail(db: Queryable, email: string): Promise<UserRow[]> {
  return db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1) ORDER BY created_at, id`, [email]);
}

export async function emailTaken(db: Queryable, orgId: string, email: string, exceptUserId?: string): Promise<boolean> {
  const rows = await db.query("SELECT 1 FROM users WHERE org_id = $1 AND lower(email) = lower($2) AND id IS DISTINCT FROM $3::uuid", [orgId, email, exceptUserId ?? null]);
  return rows.length > 0;
}

export async function listMembers(db: Queryable, orgId: string): Promise<UserRow[]> {
  return db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
}

export async function insertMember(db: Queryable, user: Pick<UserRow, "id" | "org_id" | "email" | "display_name" | "role" | "password_hash">): Promise<UserRow> {
  const [row] = await db.query<UserRow>(
    `INSERT INTO users (id, org_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [user.id, user.org_id, user.email, user.display_name, user.role, user.password_hash],
  );
  return row!;
}

/**
 * The organization's owners, their rows locked until the transaction ends: two concurrent demotions or removals
 * of owners take turns, so they cannot leave the organization without one.
 */
export async function lockOwners(db: Queryable, orgId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>("SELECT id FROM users WHERE org_id = $1 AND role = 'owner' ORDER BY id FOR UPDATE", [orgId]);
  return rows.map((r) => r.id);
}

export async function setRole(db: Queryable, userId: string, role: Role): Promise<UserRow> {
  const [row] = await db.query<UserRow>(`UPDATE users SET role = $2 WHERE id = $1 RETURNING ${COLUMNS}`, [userId, role]);
  return row!;
}

export async function deleteUser(db: Queryable, userId: string): Promise<void> {
  await db.query("DELETE FROM users WHERE id = $1", [userId]);
}

export async function updateProfile(db: Queryable, userId: string, change: { display_name?: string; email?: string }): Promise<UserRow> {
  const [row] = await db.query<UserRow>(
    `UPDATE users SET display_name = coalesce($2, display_name), email = coalesce($3, email) WHERE id = $1 RETURNING ${COLUMNS}`,
    [userId, change.display_name ?? null, change.email ?? null],
  );
  return row!;
}

/** A new password; the session generation moves on, so tokens of earlier sign-ins end. */
export async function setPassword(db: Queryable, userId: string, passwordHash: string): Promise<UserRow> {
  const [row] = await db.query<UserRow>(
    `UPDATE users SET password_hash = $2, session_generation = session_generation + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
    [userId, passwordHash],
  );
  return row!;
}

// ---- invitations ----------------------------------------------------------------------------------------

export interface InviteRow {
  id: string;
  org_id: string;
  email: string;
  role: Role;
  expires_at: Date;
}

/** A new invitation replaces the pending ones for the same email: their tokens stop working. */
export async function replaceInvite(db: Queryable, invite: InviteRow & { token_hash: Buffer; invited_by: string }): Promise<void> {
  await db.query("DELETE FROM invites WHERE org_id = $1 AND lower(email) = lower($2) AND accepted_at IS NULL", [invite.org_id, invite.email]);
  await db.query("INSERT INTO invites (id, org_id, email, role, token_hash, invited_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", [
    invite.id,
    invite.org_id,
    invite.email,
    invite.role,
    invite.token_hash,
    invite.invited_by,
    invite.expires_at,
  ]);
}

/** Uses an invitation, once: of concurrent acceptances of the same token exactly one finds it. */
export async function consumeInvite(db: Queryable, tokenHash: Buffer): Promise<InviteRow | undefined> {
  const [row] = await db.query<InviteRow>(
    `UPDATE invites SET accepted_at = now() WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
     RETURNING id, org_id, email, role, expires_at`,
    [tokenHash],
  );
  return row;
}
