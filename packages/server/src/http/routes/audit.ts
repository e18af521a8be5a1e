import type { FastifyPluginAsync } from "fastify";
import { AUDIT_ACTIONS, queryAudit, type AuditQuery } from "../../audit/audit.js";
import { requireUser } from "../../vaults/vault-service.js";
import type { HttpDeps } from "../app.js";
import { principalOf } from "../app.js";

export const auditRoutes =
  (deps: Pick<HttpDeps, "db">): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Record<string, string | undefined> }>(
      "/v1/audit/events",
      {
        schema: {
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              resource_id: { type: "string", maxLength: 200 },
              actor_id: { type: "string", maxLength: 64 },
              action: { type: "string", enum: [...AUDIT_ACTIONS] },
              from: { type: "string", format: "date-time" },
              to: { type: "string", format: "date-time" },
              limit: { type: "string", pattern: "^[0-9]{1,4}$" },
              offset: { type: "string", pattern: "^[0-9]{1,9}$" },
            },
          },
        },
      },
      async (request) => {
        const user = principalOf(request);
        requireUser(user, "read the audit log");
        const { limit, offset, ...filters } = request.query;
        const query: AuditQuery = {
          ...(filters as Omit<AuditQuery, "limit" | "offset">),
          limit: Math.min(Number(limit ?? 50), 1000),
          offset: Number(offset ?? 0),
        };
        return queryAudit(deps.db, user.orgId, query);
      },
    );
  };
