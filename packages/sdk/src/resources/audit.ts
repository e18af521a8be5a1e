/** `client.audit`: the organization's audit log. */
import type { AuditAction, AuditEvent, AuditEvents, AuditVerification } from "../api-types.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

export interface AuditFilters {
  resource_id?: string;
  actor_id?: string;
  action?: AuditAction;
  /** RFC 3339 times. */
  from?: string;
  to?: string;
  /** At most 1000 (default 50). */
  limit?: number;
  offset?: number;
}

/** A time window of the audit log: RFC 3339 times, both ends optional and inclusive. */
export interface AuditWindow {
  from?: string;
  to?: string;
}

export class AuditResource {
  constructor(private readonly http: Transport) {}

  /** `GET /v1/audit/events`: `{ events, count }`, newest first. */
  events(filters: AuditFilters = {}): Promise<ShardvaultResponse<AuditEvents>> {
    const { resource_id, actor_id, action, from, to, limit, offset } = filters ?? {};
    return this.http.request({ method: "GET", path: "/v1/audit/events", query: { resource_id, actor_id, action, from, to, limit, offset } });
  }

  /** 1claw's name for `events`. */
  query(filters: AuditFilters = {}): Promise<ShardvaultResponse<AuditEvents>> {
    return this.events(filters);
  }

  /**
   * `GET /v1/audit/verify`: checks the organization's hash chain over up to `limit` events (default 1000, at
   * most 10000): from `from` onwards, or the newest ones up to `to`. `chain_valid`, `broken_at_event_id`, and
   * `head` (the newest event, to record elsewhere) when the window reached it.
   */
  verify(filters: AuditWindow & { limit?: number } = {}): Promise<ShardvaultResponse<AuditVerification>> {
    const { from, to, limit } = filters ?? {};
    return this.http.request({ method: "GET", path: "/v1/audit/verify", query: { from, to, limit } });
  }

  /** `GET /v1/audit/export`: every event of the window, oldest first (in chain order), with its hash fields. */
  export(window: AuditWindow = {}): Promise<ShardvaultResponse<AuditEvent[]>> {
    const { from, to } = window ?? {};
    return this.http.request({ method: "GET", path: "/v1/audit/export", query: { from, to }, ndjson: true });
  }
}
