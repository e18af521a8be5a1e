/**
 * The audit log. Events are written before the answer is sent, in the same transaction as the change they
 * record where there is one; if an event cannot be stored the request fails (fail closed). Events never
 * carry values, keys, shares or tokens.
 */
import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { AuditAction, AuditEvent } from "@shardvault/api";
import type { Queryable } from "../db/database.js";

// The closed list of actions lives with the API's other vocabularies.
export { AUDIT_ACTIONS, type AuditAction } from "@shardvault/api";

/** Who an event is about: a principal, or nobody known (`anonymous`, e.g. a sign-in with an unknown email). */
export type Actor = Pick<Principal, "id" | "orgId" | "ip"> & { type: Principal["type"] | "anonymous" };

/** The actor of events no principal caused: the nil UUID. */
export const ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000";

export interface AuditEntry {
  action: AuditAction;
  resourceType: "secret" | "vault" | "agent" | "api_key" | "policy" | "user" | "invite" | "route";
  resourceId: string;
  details?: Record<string, unknown>;
}

type AuditRow = [string, string, string, string, string, string, string, string, string | null];

const toRow = (actor: Actor, entry: AuditEntry): AuditRow => [
  randomUUID(),
  actor.orgId,
  entry.action,
  actor.id,
  actor.type,
  entry.resourceType,
  entry.resourceId,
  JSON.stringify(entry.details ?? {}),
  actor.ip ?? null,
];

async function insertEvents(db: Queryable, rows: AuditRow[]): Promise<void> {
  // One statement for any number of events: each column travels as one array parameter.
  const column = (i: number) => rows.map((row) => row[i]);
  await db.query(
    `INSERT INTO audit_events (id, org_id, action, actor_id, actor_type, resource_type, resource_id, details, ip_address)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[])`,
    [column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7), column(8)],
  );
}

/** Records an event inside the caller's transaction, so it lands together with the change it records. */
export async function recordAudit(tx: Queryable, actor: Actor, entry: AuditEntry): Promise<void> {
  await insertEvents(tx, [toRow(actor, entry)]);
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * Events that belong to no transaction (reads), with group commit: events arriving while a batch is being
 * written go together in the next one, and each caller's promise settles only when its batch committed.
 */
export function createAuditLog(db: Queryable) {
  let queue: Array<{ row: AuditRow; resolve(): void; reject(error: unknown): void }> = [];
  let flushing = false;
  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        await insertEvents(db, batch.map((b) => b.row));
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    flushing = false;
  }
  return {
    record(actor: Actor, entry: AuditEntry): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ row: toRow(actor, entry), resolve, reject });
        if (!flushing) void flush();
      });
    },
  };
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


export async function queryAudit(db: Queryable, orgId: string, query: AuditQuery): Promise<{ events: AuditEvent[]; count: number }> {
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
  const rows = await db.query<Omit<AuditEvent, "created_at"> & { created_at: Date }>(
    `SELECT id, action, actor_id, actor_type, resource_type, resource_id, org_id, details, ip_address, created_at
       FROM audit_events WHERE ${where} ORDER BY created_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, query.limit, query.offset],
  );
  return { events: rows.map((row) => ({ ...row, created_at: new Date(row.created_at).toISOString() })), count };
}
