/** The audit log. */
import type { FromSchema } from "json-schema-to-ts";
import { AUDIT_ACTIONS } from "./constants.js";
import type { Known } from "./common.js";

/** `GET /v1/audit/events` query: every value arrives as a string; `limit` ≤ 1000 (default 50). */
export const auditEventsQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    resource_id: { type: "string", maxLength: 200 },
    actor_id: { type: "string", maxLength: 64 },
    action: { type: "string", enum: AUDIT_ACTIONS },
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
    limit: { type: "string", pattern: "^[0-9]{1,4}$" },
    offset: { type: "string", pattern: "^[0-9]{1,9}$" },
  },
} as const;
export type AuditEventsQuery = Known<FromSchema<typeof auditEventsQuery>>;

/**
 * An event. `integrity_hash` and `prev_event_id` are its link in the organization's hash chain (see
 * `GET /v1/audit/verify`); both are null for events recorded before the chain began, and `prev_event_id` is
 * null for the chain's first event.
 */
export const auditEventSchema = {
  type: "object",
  required: [
    "id",
    "action",
    "actor_id",
    "actor_type",
    "resource_type",
    "resource_id",
    "org_id",
    "details",
    "ip_address",
    "created_at",
    "integrity_hash",
    "prev_event_id",
  ],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    action: { type: "string" },
    actor_id: { type: "string" },
    actor_type: { type: "string" },
    resource_type: { type: "string" },
    resource_id: { type: "string" },
    org_id: { type: "string" },
    details: { type: "object", additionalProperties: true },
    ip_address: { type: ["string", "null"] },
    created_at: { type: "string", format: "date-time" },
    integrity_hash: { type: ["string", "null"] },
    prev_event_id: { type: ["string", "null"] },
  },
} as const;
export type AuditEvent = FromSchema<typeof auditEventSchema>;

export const auditEventsResponse = {
  type: "object",
  required: ["events", "count"],
  additionalProperties: false,
  properties: { events: { type: "array", items: auditEventSchema }, count: { type: "integer" } },
} as const;
export type AuditEvents = FromSchema<typeof auditEventsResponse>;

/** `GET /v1/audit/verify` query: a time window; `limit` (default 1000, at most 10000) events are checked. */
export const auditVerifyQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
    limit: { type: "string", pattern: "^[1-9][0-9]{0,4}$" },
  },
} as const;
export type AuditVerifyQuery = Known<FromSchema<typeof auditVerifyQuery>>;

/** The default and the largest number of events one verification checks. */
export const AUDIT_VERIFY_LIMITS = { default: 1000, max: 10_000 } as const;

/**
 * `GET /v1/audit/verify`: 1claw's shape, plus `events_unchained` (events from before the chain began, reported as
 * such rather than as a break) and `head` (the chain's newest event when the window reached it and the chain is
 * valid: record it elsewhere to detect a later truncation).
 */
export const auditVerifyResponse = {
  type: "object",
  required: ["chain_valid", "events_verified", "events_checked", "events_unchained", "broken_at_event_id", "head", "scheme"],
  additionalProperties: false,
  properties: {
    chain_valid: { type: "boolean" },
    events_verified: { type: "integer", description: "Events whose hash and link checked" },
    events_checked: { type: "integer", description: "Every event examined" },
    events_unchained: { type: "integer", description: "Events from before the chain began (no hash): not protected, not a break" },
    broken_at_event_id: { type: ["string", "null"], description: "The first event at which the chain breaks; null when it is valid" },
    head: {
      type: ["object", "null"],
      description: "The chain's newest event, when the window reached it and the chain is valid: record it elsewhere",
      required: ["event_id", "integrity_hash"],
      additionalProperties: false,
      properties: { event_id: { type: "string" }, integrity_hash: { type: "string" } },
    },
    scheme: {
      type: "object",
      required: ["algorithm", "chain_structure", "hash_field", "link_field", "documentation"],
      additionalProperties: false,
      properties: {
        algorithm: { type: "string" },
        chain_structure: { type: "string" },
        hash_field: { type: "string" },
        link_field: { type: "string" },
        documentation: { type: "string" },
      },
    },
  },
} as const;
export type AuditVerification = FromSchema<typeof auditVerifyResponse>;

/** `GET /v1/audit/export` query: the time window (both ends optional, inclusive). */
export const auditExportQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    from: { type: "string", format: "date-time" },
    to: { type: "string", format: "date-time" },
  },
} as const;
export type AuditExportQuery = Known<FromSchema<typeof auditExportQuery>>;

/** The export's media type: one event (`auditEventSchema`) per line, in chain order. */
export const AUDIT_EXPORT_MEDIA_TYPE = "application/x-ndjson";
