/**
 * The audit log. Events are written before the answer is sent, in the same transaction as the change they
 * record where there is one; if an event cannot be stored the request fails (fail closed). Events never
 * carry values, keys, shares or tokens.
 */
import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { Queryable } from "../db/database.js";

export const AUDIT_ACTIONS = [
  "secret.write",
  "secret.read",
  "secret.read_refused",
  "secret.delete",
  "secret.version_disable",
  "secret.rotate",
  "vault.create",
  "vault.delete",
  "vault.mpc_enable",
  "vault.cmek_enable",
  "vault.cmek_disable",
  "vault.cmek_rotate",
  "agent.create",
  "agent.update",
  "agent.delete",
  "agent.rotate_key",
  "api_key.create",
  "api_key.revoke",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: AuditAction;
  resourceType: "secret" | "vault" | "agent" | "api_key";
  resourceId: string;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Queryable, actor: Principal, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (id, org_id, action, actor_id, actor_type, resource_type, resource_id, details, ip_address)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)`,
    [randomUUID(), actor.orgId, entry.action, actor.id, actor.type, entry.resourceType, entry.resourceId, JSON.stringify(entry.details ?? {}), actor.ip ?? null],
  );
}

export interface AuditQuery {
  resource_id?: string;
  actor_id?: string;
  action?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

export interface AuditEventView {
  id: string;
  action: string;
  actor_id: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  org_id: string;
  details: Record<string, unknown>;
  ip_address: string | null;
  created_at: string;
}

export async function queryAudit(db: Queryable, orgId: string, query: AuditQuery): Promise<{ events: AuditEventView[]; count: number }> {
  const conditions = ["org_id = $1"];
  const params: unknown[] = [orgId];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace("?", `$${params.length}`));
  };
  if (query.resource_id !== undefined) add("resource_id = ?", query.resource_id);
  if (query.actor_id !== undefined) add("actor_id::text = ?", query.actor_id);
  if (query.action !== undefined) add("action = ?", query.action);
  if (query.from !== undefined) add("created_at >= ?::timestamptz", query.from);
  if (query.to !== undefined) add("created_at <= ?::timestamptz", query.to);
  const where = conditions.join(" AND ");
  const [{ count } = { count: 0 }] = await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM audit_events WHERE ${where}`, params);
  const rows = await db.query<AuditEventView & { created_at: Date }>(
    `SELECT id, action, actor_id, actor_type, resource_type, resource_id, org_id, details, ip_address, created_at
       FROM audit_events WHERE ${where} ORDER BY created_at DESC, id LIMIT ${query.limit} OFFSET ${query.offset}`,
    params,
  );
  return { events: rows.map((row) => ({ ...row, created_at: new Date(row.created_at).toISOString() })), count };
}
