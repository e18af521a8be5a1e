/**
 * The audit chain's link: an event's `integrity_hash` is HMAC-SHA256, under the chain key, of the canonical
 * encoding (@shardvault/crypto's context encoding: typed, length-prefixed, fields sorted by name) of every
 * field of the event (its position `chain_seq` and its link `prev_event_id` included) together with the
 * previous event's hash. The first event of an organization's chain has neither `prev_event_id` nor a
 * previous hash. Pure: no I/O.
 */
import { createHmac, type KeyObject } from "node:crypto";
import canonicalize from "canonicalize";
import { encodeContext } from "@shardvault/crypto";
import { badRequest } from "../errors.js";

/** An event as stored, with its place in the chain; `integrity_hash` null for events from before the chain. */
export interface StoredAuditEvent {
  id: string;
  org_id: string;
  chain_seq: number | null;
  action: string;
  actor_id: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  details: Record<string, unknown>;
  ip_address: string | null;
  /** RFC 3339, millisecond precision (the database keeps audit times in milliseconds). */
  created_at: string;
  prev_event_id: string | null;
  integrity_hash: string | null;
}

export type ChainedFields = Omit<StoredAuditEvent, "integrity_hash" | "chain_seq"> & { chain_seq: number };

/**
 * `details` as the database gives it back: it stores the JSON text of the object (JSONB), so the hash covers
 * the RFC 8785 canonical form of that JSON, the same bytes before the insert and after a read.
 */
function canonicalDetails(details: Record<string, unknown>): string {
  try {
    return canonicalize(JSON.parse(JSON.stringify(details)))!;
  } catch {
    // A string with an unpaired surrogate: the database refuses such JSON anyway (the same answer as its own).
    throw badRequest("invalid_input", "the request holds a value the database cannot store (e.g. a NUL character or an out-of-range date)");
  }
}

/** The bytes the HMAC covers; distinct events (or links) never encode alike, the encoding being injective. */
function chainMessage(event: ChainedFields, prevHash: string | null): Uint8Array {
  return encodeContext({
    purpose: "audit-event",
    format: 1,
    id: event.id,
    org_id: event.org_id,
    chain_seq: event.chain_seq,
    action: event.action,
    actor_id: event.actor_id,
    actor_type: event.actor_type,
    resource_type: event.resource_type,
    resource_id: event.resource_id,
    details: canonicalDetails(event.details),
    created_at: Date.parse(event.created_at),
    // Absent, not empty: a null differs from every string.
    ...(event.ip_address === null ? {} : { ip_address: event.ip_address }),
    ...(event.prev_event_id === null ? {} : { prev_event_id: event.prev_event_id }),
    ...(prevHash === null ? {} : { prev_hash: prevHash }),
  });
}

/** The event's `integrity_hash` (lowercase hex). */
export function chainHash(key: KeyObject, event: ChainedFields, prevHash: string | null): string {
  return createHmac("sha256", key).update(chainMessage(event, prevHash)).digest("hex");
}
