/**
 * Verification of a window of an organization's audit chain. Pure: the caller loads the rows.
 *
 * The window's events come in chain order (`chain_seq`), with the event just before the window as anchor.
 * Events numbered below the chain's start and carrying no hash are from before the chain: reported as
 * unchained, not as a break. From the start on, every event must carry a hash that checks and link to the
 * event before it (the first event of the chain links to nothing), so an edited, deleted, inserted or reordered
 * event breaks the chain at that event: an edit fails the event's own HMAC; a deletion leaves its successor
 * linking to an event that is not there; an insertion links wrongly or fails its HMAC; a reordering does both.
 * When the window reaches the newest event, the head row must name it: deleting the newest event leaves the
 * head naming a missing event. Rows outside any chain (no `chain_seq`) are breaks too.
 */
import type { KeyObject } from "node:crypto";
import type { AuditVerification } from "@shardvault/api";
import { equalBytes } from "@shardvault/crypto";
import { chainHash, type StoredAuditEvent } from "./chain-hash.js";

/** An organization's chain head (the `audit_chain_heads` row). */
export interface ChainHead {
  /** The first `chain_seq` of the chain; lower numbers are events from before it. */
  chain_start_seq: number;
  last_event_id: string | null;
  last_hash: string | null;
}

export interface ChainWindow {
  /** The organization's head; null when it has none. */
  head: ChainHead | null;
  /** Whether the window ends at the newest numbered event (only then is the head checked against it). */
  reachesHead: boolean;
  /** The event just before the window in chain order; null when the window starts at the beginning. */
  anchor: StoredAuditEvent | null;
  /** The window, in chain order. */
  events: StoredAuditEvent[];
  /** Rows in the window's time range that have no place in any chain (`chain_seq` null). */
  unsequenced: StoredAuditEvent[];
}

/** The verify answer without its `scheme` (see @shardvault/api `auditVerifyResponse`). */
export type ChainVerdict = Omit<AuditVerification, "scheme">;

// Constant time: someone who can write rows must not learn a valid hash byte by byte from verify's timing.
const sameHash = (a: string, b: string): boolean => equalBytes(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

export function verifyChainWindow(key: KeyObject, window: ChainWindow): ChainVerdict {
  const start = window.head?.chain_start_seq ?? 1;
  const isBeforeChain = (e: StoredAuditEvent) => e.integrity_hash === null && e.chain_seq !== null && e.chain_seq < start;
  // The previous link; null while the chain has not begun (the next event must be the chain's first).
  let prev: { id: string; hash: string | null } | null =
    window.anchor && !isBeforeChain(window.anchor) ? { id: window.anchor.id, hash: window.anchor.integrity_hash } : null;
  let verified = 0;
  let unchained = 0;
  let brokenAt: StoredAuditEvent | undefined;

  for (const event of window.events) {
    if (prev === null && isBeforeChain(event)) {
      unchained++;
      continue;
    }
    const expected =
      event.integrity_hash !== null && event.chain_seq !== null && event.chain_seq >= start && event.prev_event_id === (prev?.id ?? null)
        ? chainHash(key, { ...event, chain_seq: event.chain_seq }, prev?.hash ?? null)
        : null;
    if (expected !== null && sameHash(expected, event.integrity_hash!)) verified++;
    else brokenAt ??= event;
    // Past a break, the next event is checked against what is stored, so one edit does not hide later ones.
    prev = { id: event.id, hash: event.integrity_hash };
  }

  let broken: string | null = brokenAt?.id ?? null;
  const newest = prev;
  if (broken === null && window.reachesHead) {
    const head = window.head;
    const headMatches = head ? head.last_event_id === (newest?.id ?? null) && head.last_hash === (newest?.hash ?? null) : newest === null;
    // A head naming an event that is not the newest one: the newest events were deleted (or the head edited).
    if (!headMatches) broken = head?.last_event_id ?? newest!.id;
  }
  // A row outside every chain breaks it too; it counts first if it is older than the first break.
  const stray = [...window.unsequenced].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at))[0];
  if (stray && (broken === null || brokenAt === undefined || Date.parse(stray.created_at) < Date.parse(brokenAt.created_at))) broken = stray.id;

  const valid = broken === null;
  return {
    chain_valid: valid,
    events_verified: verified,
    events_checked: window.events.length + window.unsequenced.length,
    events_unchained: unchained,
    broken_at_event_id: broken,
    head: valid && window.reachesHead && newest?.hash ? { event_id: newest.id, integrity_hash: newest.hash } : null,
  };
}
