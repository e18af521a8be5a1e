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

/** Collects a statement's parameters: `p(value)` adds one and answers its placeholder (`$n`). */
function parameters(): { p: (value: unknown) => string; values: unknown[] } {
  const values: unknown[] = [];
  return { values, p: (value) => `$${values.push(value)}` };
}

/**
 * One INSERT for any number of events: each column travels as one array parameter, and `condition` may hold the
 * rows back.
 */
function insertEvents<E extends NewEvent>(columns: Record<string, string>, events: E[], p: (value: unknown) => string, condition = ""): string {
  const names = Object.keys(columns);
  const arrays = names.map((name) => p(events.map((e) => (name === "details" ? JSON.stringify(e.details) : e[name as keyof E]))));
  return `INSERT INTO audit_events (${names.join(", ")}) SELECT * FROM unnest(${names.map((name, i) => `${arrays[i]}::${columns[name]}[]`).join(", ")}) ${condition}`;
}

/**
 * A change stored by the same statement as the event that records it: neither is stored without the other,
 * and a write costs one round trip. It is SQL around the append, built with `p` (adds a parameter, answers its
 * placeholder) and `name` (makes a common table expression's name unique in the statement):
 * - `read`: common table expressions evaluated first (`x AS (…)`, comma-separated; may lock rows);
 * - `gate`: a boolean over them; the change and its event (and, in a batch, every other's) are stored only
 *   when it holds;
 * - `store(stored)`: common table expressions that store the change, where `stored` is the SQL boolean "the
 *   events are stored" (their own conditions must include it);
 * - `answer`: one JSON value the statement answers for the change.
 */
export interface AuditedChange {
  sql(p: (value: unknown) => string, name: (cte: string) => string): { read: string; gate: string; store(stored: string): string; answer: string };
}

/** What became of a recorded change: stored with its event, or not (its gate did not hold), and its answer. */
export interface ChangeOutcome {
  stored: boolean;
  answer: unknown;
}

/** One event to append, and the change it records if any. */
interface Entry {
  event: NewEvent;
  change?: AuditedChange;
}

/** At most this many changes go in one statement (its text grows with them; a few kinds of text are prepared). */
const MAX_CHANGES_PER_STATEMENT = 16;

/**
 * The SQL the changes of `entries` put around an append. Its text depends only on how many changes there are
 * (events without one add nothing to it), so that statements are prepared once per connection for each count.
 */
function changesSql(entries: readonly Entry[], p: (value: unknown) => string) {
  const parts = entries.filter((entry) => entry.change).map((entry, i) => entry.change!.sql(p, (cte) => `c${i}_${cte}`));
  return {
    reads: parts.map((part) => `${part.read}, `).join(""),
    gate: parts.length === 0 ? "true" : parts.map((part) => `(${part.gate})`).join(" AND "),
    stores: (stored: string) => parts.map((part) => `, ${part.store(stored)}`).join(""),
    answers: `ARRAY[${parts.map((part) => `(${part.gate})`).join(", ")}]::boolean[] AS gates, json_build_array(${parts.map((part) => part.answer).join(", ")}) AS answers`,
  };
}

interface AppendAnswer {
  appended: number;
  /** Per change, in the order of the entries that have one: whether its gate held, and its answer. */
  gates: boolean[];
  answers: unknown[];
}

/**
 * Chains one organization's events, in order, after `head`, and stores them with the head moved past them and
 * their changes in one statement, if every change's gate holds and the stored head is still `head` (compare and
 * set: the UPDATE locks the head row until the transaction ends, and an append that moved the head first makes
 * this one match nothing and store nothing). Answers the new head (undefined when nothing was stored) and the
 * statement's answer.
 */
async function appendAfter(q: Queryable, key: KeyObject, orgId: string, head: Head, entries: readonly Entry[]): Promise<{ next?: Head; answer: AppendAnswer }> {
  const time = Math.max(Date.now(), head.last_time);
  const createdAt = new Date(time).toISOString();
  let next = head;
  const chained: StoredAuditEvent[] = entries.map(({ event }) => {
    const fields = { ...event, chain_seq: next.last_seq + 1, created_at: createdAt, prev_event_id: next.last_event_id };
    const hash = chainHash(key, fields, next.last_hash);
    next = { last_seq: fields.chain_seq, last_event_id: event.id, last_hash: hash, last_time: time };
    return { ...fields, integrity_hash: hash };
  });
  const { p, values } = parameters();
  const changes = changesSql(entries, p);
  const stored = "EXISTS (SELECT 1 FROM moved)";
  const [answer] = await q.query<AppendAnswer>(
    `WITH ${changes.reads}moved AS (
       UPDATE audit_chain_heads SET last_seq = ${p(next.last_seq)}, last_event_id = ${p(next.last_event_id)}, last_hash = ${p(next.last_hash)}, last_created_at = ${p(createdAt)}
        WHERE org_id = ${p(orgId)} AND last_seq = ${p(head.last_seq)} AND last_event_id IS NOT DISTINCT FROM ${p(head.last_event_id)}::uuid AND ${changes.gate}
        RETURNING 1
     ), inserted AS (${insertEvents(CHAIN_COLUMNS, chained, p, `WHERE ${stored}`)} RETURNING 1)${changes.stores(stored)}
     SELECT (SELECT count(*)::int FROM inserted) AS appended, ${changes.answers}`,
    values,
  );
  return { ...(answer!.appended === entries.length ? { next } : {}), answer: answer! };
}

/** The benchmark baseline's append: the events (and their changes) with no place in any chain. */
async function insertUnchained(q: Queryable, entries: readonly Entry[]): Promise<AppendAnswer> {
  const { p, values } = parameters();
  const changes = changesSql(entries, p);
  const stored = `(${changes.gate})`;
  const [answer] = await q.query<AppendAnswer>(
    `WITH ${changes.reads}inserted AS (${insertEvents(EVENT_COLUMNS, entries.map((e) => e.event), p, `WHERE ${stored}`)} RETURNING 1)${changes.stores(stored)}
     SELECT (SELECT count(*)::int FROM inserted) AS appended, ${changes.answers}`,
    values,
  );
  return answer!;
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

  /**
   * Appends one organization's entries through `q`, all or none; `inTransaction` runs the locked fallback.
   * Answers the statement's answer, with `appended` 0 when a change's gate did not hold (nothing stored).
   */
  async function append(q: Queryable, inTransaction: InTransaction, orgId: string, entries: readonly Entry[]): Promise<AppendAnswer> {
    if (!("key" in chaining)) return insertUnchained(q, entries);
    const { key } = chaining;
    const known = knownHeads.get(orgId);
    let result = known && (await appendAfter(q, key, orgId, known, entries));
    // No head known here yet, or it moved (another instance appended, or a write that appended rolled back):
    // lock it, read it, append after it. A gate that did not hold stored nothing either way.
    if (!result?.next && (!result || result.answer.gates.every(Boolean))) {
      result = await inTransaction(async (tx) => appendAfter(tx, key, orgId, await lockHead(tx, orgId), entries));
      if (!result.next && result.answer.gates.every(Boolean)) throw new Error("the audit chain head moved while it was locked");
    }
    if (result.next) knownHeads.set(orgId, result.next);
    return result.answer;
  }

  type Pending = Entry & { resolve(outcome: ChangeOutcome): void; reject(error: unknown): void };
  let queue: Pending[] = [];
  let flushing = false;

  /**
   * Stores one organization's pending entries in one statement, all or none: a failed statement fails them
   * all; when a change's gate does not hold, nothing is stored and each entry is tried again on its own, so
   * that each caller learns its own change's outcome.
   */
  async function store(orgId: string, pending: Pending[]): Promise<void> {
    let answer: AppendAnswer;
    try {
      answer = await append(db, (fn) => db.transaction(fn), orgId, pending);
    } catch (error) {
      for (const p of pending) p.reject(error);
      return;
    }
    const stored = answer.appended === pending.length;
    if (!stored && pending.length > 1) {
      for (const one of pending) await store(orgId, [one]);
      return;
    }
    let change = 0;
    for (const p of pending) p.resolve({ stored, answer: p.change ? answer.answers[change++] : null });
  }

  /** An organization's pending entries in statements of at most MAX_CHANGES_PER_STATEMENT changes, in order. */
  function statementsOf(pending: Pending[]): Pending[][] {
    const statements: Pending[][] = [[]];
    let changes = 0;
    for (const entry of pending) {
      if (entry.change && changes === MAX_CHANGES_PER_STATEMENT) {
        statements.push([]);
        changes = 0;
      }
      if (entry.change) changes++;
      statements.at(-1)!.push(entry);
    }
    return statements;
  }

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
      // One statement per organization in the batch (more for many changes), each settling its own callers.
      await Promise.all(
        [...byOrg].map(async ([orgId, pending]) => {
          for (const statement of statementsOf(pending)) await store(orgId, statement);
        }),
      );
    }
    flushing = false;
  }

  const enqueue = (event: NewEvent, change?: AuditedChange) =>
    new Promise<ChangeOutcome>((resolve, reject) => {
      queue.push({ event, ...(change ? { change } : {}), resolve, reject });
      if (!flushing) void flush();
    });

  return {
    /**
     * Records an event inside the caller's transaction, so it lands together with the change it records. Make
     * it the transaction's last statement: it locks the organization's chain head until the commit, and every
     * other append to that organization waits meanwhile.
     */
    async recordIn(tx: Queryable, actor: Actor, entry: AuditEntry): Promise<void> {
      await append(tx, (fn) => fn(tx), actor.orgId, [{ event: newEvent(actor, entry) }]);
    },

    /**
     * Records an event that belongs to no transaction (reads), with group commit: events arriving while a batch
     * is being written go together in the next one (one statement per organization, chaining its events in
     * arrival order), and each caller's promise settles only when its events are stored.
     */
    async record(actor: Actor, entry: AuditEntry): Promise<void> {
      await enqueue(newEvent(actor, entry));
    },

    /**
     * Stores `change` and the event recording it in one statement, with group commit like `record` (the
     * changes of a batch, their gates and the chain append in one statement per organization, all or none).
     * Answers whether they were stored (not when the change's gate did not hold) and the change's answer.
     */
    recordWith(actor: Actor, entry: AuditEntry, change: AuditedChange): Promise<ChangeOutcome> {
      return enqueue(newEvent(actor, entry), change);
    },
  };
}
