/**
 * The audit log's one writer. Events are written before the answer is sent, in the same transaction as the
 * change they record where there is one; if an event cannot be stored the request fails (fail closed). Events
 * never carry values, keys, shares or tokens.
 *
 * Every event is appended to its organization's hash chain (chain-hash.ts): each event takes the next number
 * after the organization's head, links to the previous event and gets its HMAC, and one statement inserts the
 * events and moves the head, only if the head is still where the events were chained from (compare and set).
 * The head row's lock, held until the transaction ends, serializes appends across instances sharing the
 * database, so the chain never forks. Each process remembers the heads it moved, so an append usually costs
 * that one statement; when another instance moved the head meanwhile, the append locks the head, reads it
 * and chains again.
 */
import { randomUUID, type KeyObject } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { AuditAction } from "@shardvault/api";
import type { Database, Queryable } from "../db/database.js";
import { chainHash, type StoredAuditEvent } from "./chain-hash.js";

// The closed list of actions lives with the API's other vocabularies.
export { AUDIT_ACTIONS, type AuditAction } from "@shardvault/api";

/** Who an event is about: a principal, or nobody known (`anonymous`, e.g. a sign-in with an unknown email). */
export type Actor = Pick<Principal, "id" | "orgId" | "ip"> & { type: Principal["type"] | "anonymous" };

/** The actor of events no principal caused: the nil UUID. */
export const ANONYMOUS_ID = "00000000-0000-0000-0000-000000000000";

export interface AuditEntry {
  action: AuditAction;
  resourceType: "secret" | "vault" | "agent" | "api_key" | "policy" | "user" | "invite" | "route" | "share";
  resourceId: string;
  details?: Record<string, unknown>;
}

/**
 * How events are written: chained under the chain key, or not at all chained. Unchained exists for one
 * purpose, the HTTP benchmark's baseline (bench/unchained-server.ts); `npm start` cannot select it, and
 * verification reports every unchained row written after the chain began as a break.
 */
export type AuditChaining = { key: KeyObject } | { unchainedForBenchmark: true };

type NewEvent = Omit<StoredAuditEvent, "chain_seq" | "created_at" | "prev_event_id" | "integrity_hash">;

const newEvent = (actor: Actor, entry: AuditEntry): NewEvent => ({
  id: randomUUID(),
  org_id: actor.orgId,
  action: entry.action,
  actor_id: actor.id,
  actor_type: actor.type,
  resource_type: entry.resourceType,
  resource_id: entry.resourceId,
  details: entry.details ?? {},
  ip_address: actor.ip ?? null,
});

/** An organization's chain head: where its next event goes. */
interface Head {
  last_seq: number;
  last_event_id: string | null;
  last_hash: string | null;
  /** The newest event's time (epoch ms; 0 when none): the next events' times never go below it. */
  last_time: number;
}

/** Locks an organization's head until the transaction ends, creating it if it does not exist yet. */
async function lockHead(tx: Queryable, orgId: string): Promise<Head> {
  const [row] = await tx.query<{ last_seq: number | string; last_event_id: string | null; last_hash: string | null; last_created_at: Date | null }>(
    `INSERT INTO audit_chain_heads AS h (org_id, chain_start_seq, last_seq) VALUES ($1, 1, 0)
     ON CONFLICT (org_id) DO UPDATE SET org_id = EXCLUDED.org_id
     RETURNING h.last_seq, h.last_event_id, h.last_hash, h.last_created_at`,
    [orgId],
  );
  const { last_seq, last_event_id, last_hash, last_created_at } = row!;
  return { last_seq: Number(last_seq), last_event_id, last_hash, last_time: last_created_at ? new Date(last_created_at).getTime() : 0 };
}

/** Columns of an event and their SQL types; the chain's own columns are written by chained appends only. */
const EVENT_COLUMNS = {
  id: "uuid",
  org_id: "uuid",
  action: "text",
  actor_id: "uuid",
  actor_type: "text",
  resource_type: "text",
  resource_id: "text",
  details: "jsonb",
  ip_address: "text",
} as const;
const CHAIN_COLUMNS = { ...EVENT_COLUMNS, chain_seq: "int8", created_at: "timestamptz", prev_event_id: "uuid", integrity_hash: "text" } as const;

/**
 * One INSERT for any number of events: each column travels as one array parameter (`$1…`), and `condition`
 * may hold the rows back. Answers the statement and its parameters.
 */
function insertEvents<E extends NewEvent>(columns: Record<string, string>, events: E[], condition = ""): [string, unknown[][]] {
  const names = Object.keys(columns);
  const arrays = names.map((name) => events.map((e) => (name === "details" ? JSON.stringify(e.details) : e[name as keyof E])));
  const sql = `INSERT INTO audit_events (${names.join(", ")}) SELECT * FROM unnest(${names.map((name, i) => `$${i + 1}::${columns[name]}[]`).join(", ")}) ${condition}`;
  return [sql, arrays];
}

/**
 * Chains one organization's `events`, in order, after `head`, and stores them with the head moved past them in
 * one statement, if the stored head is still `head` (compare and set: the UPDATE locks the head row until the
 * transaction ends, and an append that moved the head first makes this one match nothing and store nothing).
 * Answers the new head, or undefined when the head had moved.
 */
async function appendAfter(q: Queryable, key: KeyObject, orgId: string, head: Head, events: NewEvent[]): Promise<Head | undefined> {
  const time = Math.max(Date.now(), head.last_time);
  const createdAt = new Date(time).toISOString();
  let next = head;
  const chained: StoredAuditEvent[] = events.map((event) => {
    const fields = { ...event, chain_seq: next.last_seq + 1, created_at: createdAt, prev_event_id: next.last_event_id };
    const hash = chainHash(key, fields, next.last_hash);
    next = { last_seq: fields.chain_seq, last_event_id: event.id, last_hash: hash, last_time: time };
    return { ...fields, integrity_hash: hash };
  });
  const [insert, columns] = insertEvents(CHAIN_COLUMNS, chained, "WHERE EXISTS (SELECT 1 FROM moved)");
  const n = columns.length;
  const [row] = await q.query<{ appended: number }>(
    `WITH moved AS (
       UPDATE audit_chain_heads SET last_seq = $${n + 1}, last_event_id = $${n + 2}, last_hash = $${n + 3}, last_created_at = $${n + 4}
        WHERE org_id = $${n + 5} AND last_seq = $${n + 6} AND last_event_id IS NOT DISTINCT FROM $${n + 7}::uuid
        RETURNING 1
     ), inserted AS (${insert} RETURNING 1)
     SELECT count(*)::int AS appended FROM inserted`,
    [...columns, next.last_seq, next.last_event_id, next.last_hash, createdAt, orgId, head.last_seq, head.last_event_id],
  );
  return row!.appended === events.length ? next : undefined;
}

/** The benchmark baseline's write: the events alone, with no place in any chain. */
async function insertUnchained(db: Queryable, events: NewEvent[]): Promise<void> {
  await db.query(...insertEvents(EVENT_COLUMNS, events));
}

type InTransaction = <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>;

export type AuditLog = ReturnType<typeof createAuditLog>;

/**
 * The two ways to record an event; every event, however recorded, goes through `append`. `onBatch` hears the
 * size of each group-commit batch (metrics).
 */
export function createAuditLog(db: Database, chaining: AuditChaining, onBatch: (size: number) => void = () => undefined) {
  /** The newest head this process knows per organization, so that an append needs no read before it writes. */
  const knownHeads = new Map<string, Head>();

  /** Appends one organization's events through `q`; `inTransaction` runs the locked fallback. */
  async function append(q: Queryable, inTransaction: InTransaction, orgId: string, events: NewEvent[]): Promise<void> {
    if (!("key" in chaining)) return insertUnchained(q, events);
    const { key } = chaining;
    const known = knownHeads.get(orgId);
    let next = known && (await appendAfter(q, key, orgId, known, events));
    // No head known here yet, or it moved (another instance appended, or a write that appended rolled back):
    // lock it, read it, append after it.
    next ??= await inTransaction(async (tx) => appendAfter(tx, key, orgId, await lockHead(tx, orgId), events));
    if (!next) throw new Error("the audit chain head moved while it was locked");
    knownHeads.set(orgId, next);
  }

  let queue: Array<{ event: NewEvent; resolve(): void; reject(error: unknown): void }> = [];
  let flushing = false;
  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      onBatch(batch.length);
      const byOrg = new Map<string, typeof batch>();
      for (const b of batch) {
        const same = byOrg.get(b.event.org_id);
        if (same) same.push(b);
        else byOrg.set(b.event.org_id, [b]);
      }
      // One statement per organization in the batch, each settling its own callers.
      await Promise.all(
        [...byOrg].map(async ([orgId, pending]) => {
          try {
            await append(db, (fn) => db.transaction(fn), orgId, pending.map((p) => p.event));
            for (const p of pending) p.resolve();
          } catch (error) {
            for (const p of pending) p.reject(error);
          }
        }),
      );
    }
    flushing = false;
  }

  return {
    /**
     * Records an event inside the caller's transaction, so it lands together with the change it records. Make
     * it the transaction's last statement: it locks the organization's chain head until the commit, and every
     * other append to that organization waits meanwhile.
     */
    recordIn(tx: Queryable, actor: Actor, entry: AuditEntry): Promise<void> {
      return append(tx, (fn) => fn(tx), actor.orgId, [newEvent(actor, entry)]);
    },

    /**
     * Records an event that belongs to no transaction (reads), with group commit: events arriving while a batch
     * is being written go together in the next one (one statement per organization, chaining its events in
     * arrival order), and each caller's promise settles only when its events are stored.
     */
    record(actor: Actor, entry: AuditEntry): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ event: newEvent(actor, entry), resolve, reject });
        if (!flushing) void flush();
      });
    },
  };
}
