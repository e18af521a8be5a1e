/**
 * Reading the audit log: the filtered event list, verification of the hash chain over a time window, and the
 * export a SIEM pulls (every event of a window, in chain order, read page by page).
 */
import type { KeyObject } from "node:crypto";
import type { AuditEvent } from "@shardvault/api";
import type { Queryable } from "../db/database.js";
import type { StoredAuditEvent } from "./chain-hash.js";
import { verifyChainWindow, type ChainHead, type ChainVerdict } from "./chain-verify.js";

export interface AuditQuery {
  resource_id?: string;
  actor_id?: string;
  action?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
}

/** A time window (inclusive, each end optional). */
export interface AuditWindow {
  from?: string;
  to?: string;
}

const COLUMNS = "id, org_id, chain_seq, action, actor_id, actor_type, resource_type, resource_id, details, ip_address, created_at, prev_event_id, integrity_hash";

type EventRow = Omit<StoredAuditEvent, "chain_seq" | "created_at"> & { chain_seq: number | string | null; created_at: Date };

// node-postgres answers BIGINT as a string, PGlite as a number.
const toStored = (row: EventRow): StoredAuditEvent => ({
  ...row,
  chain_seq: row.chain_seq === null ? null : Number(row.chain_seq),
  created_at: new Date(row.created_at).toISOString(),
});

/** The API's view: the stored event without its position (`chain_seq` orders the chain; links show it). */
export function toAuditEvent({ chain_seq: _position, ...event }: StoredAuditEvent): AuditEvent {
  return event;
}

/** Below and above every `chain_seq` (numbers start at 1). */
const BOTTOM = 0;
const TOP = Number.MAX_SAFE_INTEGER;

export type AuditReader = ReturnType<typeof createAuditReader>;

export function createAuditReader(deps: { db: Queryable; chainKey: KeyObject }) {
  const { db } = deps;

  const events = (sql: string, params: unknown[]) => db.query<EventRow>(sql, params).then((rows) => rows.map(toStored));

  /** The `chain_seq` range of a time window: the first numbered event at or after `from`, the last at or before `to`. */
  async function seqRange(orgId: string, window: AuditWindow): Promise<{ lo: number; hi: number }> {
    const at = async (sql: string, time: string | undefined, none: number, open: number) => {
      if (time === undefined) return open;
      const [row] = await db.query<{ chain_seq: number | string }>(sql, [orgId, time]);
      return row ? Number(row.chain_seq) : none;
    };
    return {
      lo: await at(
        "SELECT chain_seq FROM audit_events WHERE org_id = $1 AND chain_seq IS NOT NULL AND created_at >= $2::timestamptz ORDER BY created_at, chain_seq LIMIT 1",
        window.from,
        TOP,
        BOTTOM,
      ),
      hi: await at(
        "SELECT chain_seq FROM audit_events WHERE org_id = $1 AND chain_seq IS NOT NULL AND created_at <= $2::timestamptz ORDER BY created_at DESC, chain_seq DESC LIMIT 1",
        window.to,
        BOTTOM,
        TOP,
      ),
    };
  }

  return {
    async list(orgId: string, query: AuditQuery): Promise<{ events: AuditEvent[]; count: number }> {
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
      const page = await events(
        `SELECT ${COLUMNS} FROM audit_events WHERE ${where} ORDER BY created_at DESC, chain_seq DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, query.limit, query.offset],
      );
      return { events: page.map(toAuditEvent), count };
    },

    /**
     * Verifies up to `limit` events of the window: from `from` onwards when it is given, otherwise the newest
     * ones up to `to`. The event before the window anchors it, so a window may start mid-chain.
     */
    async verify(orgId: string, window: AuditWindow & { limit: number }): Promise<ChainVerdict> {
      const { lo, hi } = await seqRange(orgId, window);
      const forward = window.from !== undefined;
      const inWindow =
        lo > hi
          ? []
          : await events(
              `SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND chain_seq >= $2 AND chain_seq <= $3
                ORDER BY chain_seq ${forward ? "ASC" : "DESC"} LIMIT $4`,
              [orgId, lo, hi, window.limit],
            );
      if (!forward) inWindow.reverse();
      const first = inWindow[0]?.chain_seq ?? lo;
      const last = inWindow.at(-1)?.chain_seq ?? first - 1;
      const [anchor] = await events(`SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND chain_seq < $2 ORDER BY chain_seq DESC LIMIT 1`, [orgId, first]);
      const [later] = await db.query("SELECT 1 FROM audit_events WHERE org_id = $1 AND chain_seq > $2 LIMIT 1", [orgId, last]);
      const [head] = await db.query<{ chain_start_seq: number | string; last_event_id: string | null; last_hash: string | null }>(
        "SELECT chain_start_seq, last_event_id, last_hash FROM audit_chain_heads WHERE org_id = $1",
        [orgId],
      );
      // Rows with no place in any chain: in the window's time range, the first `limit` of them.
      const unsequenced = await events(
        `SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND chain_seq IS NULL
            AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz) AND ($3::timestamptz IS NULL OR created_at <= $3::timestamptz)
          ORDER BY created_at, id LIMIT $4`,
        [orgId, window.from ?? null, window.to ?? null, window.limit],
      );
      const chainHead: ChainHead | null = head ? { ...head, chain_start_seq: Number(head.chain_start_seq) } : null;
      return verifyChainWindow(deps.chainKey, { head: chainHead, reachesHead: later === undefined, anchor: anchor ?? null, events: inWindow, unsequenced });
    },

    /** Every numbered event of the window in chain order, read a page at a time (never the whole log at once). */
    async *export(orgId: string, window: AuditWindow, pageSize = 500): AsyncGenerator<AuditEvent> {
      const { lo, hi } = await seqRange(orgId, window);
      for (let next = lo; next <= hi; ) {
        const page = await events(
          `SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND chain_seq >= $2 AND chain_seq <= $3 ORDER BY chain_seq LIMIT $4`,
          [orgId, next, hi, pageSize],
        );
        for (const event of page) yield toAuditEvent(event);
        if (page.length < pageSize) return;
        next = page.at(-1)!.chain_seq! + 1;
      }
    },
  };
}
