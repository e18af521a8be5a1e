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

export const auditEventSchema = {
  type: "object",
  required: ["id", "action", "actor_id", "actor_type", "resource_type", "resource_id", "org_id", "details", "ip_address", "created_at"],
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
