/** `client.audit`: the organization's audit log. */
import type { AuditAction, AuditEvents } from "../api-types.js";
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
}
