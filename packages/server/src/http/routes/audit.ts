import type { FastifyPluginAsync } from "fastify";
import { auditEventsQuery, auditEventsResponse, documentOnlySerializer, problemResponses } from "@shardvault/api";
import { queryAudit, type AuditQuery } from "../../audit/audit.js";
import { requireAdmin } from "../../auth/roles.js";
import type { HttpDeps } from "../deps.js";
import { principalOf } from "../request.js";

export const auditRoutes =
  (deps: Pick<HttpDeps, "db">): FastifyPluginAsync =>
  async (app) => {
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);
    app.get<{ Querystring: Record<string, string | undefined> }>(
      "/v1/audit/events",
      {
        schema: { querystring: auditEventsQuery, response: { 200: auditEventsResponse, ...problemResponses } },
      },
      async (request) => {
        const user = principalOf(request);
        requireAdmin(user, "read the audit log");
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
