import { Readable } from "node:stream";
import type { FastifyPluginAsync } from "fastify";
import {
  AUDIT_EXPORT_MEDIA_TYPE,
  AUDIT_VERIFY_LIMITS,
  auditEventSchema,
  auditEventsQuery,
  auditEventsResponse,
  auditExportQuery,
  auditVerifyQuery,
  auditVerifyResponse,
  documentOnlySerializer,
  problemResponses,
  type AuditExportQuery,
  type AuditVerifyQuery,
} from "@shardvault/api";
import type { AuditQuery } from "../../audit/audit-reader.js";
import { requireAdmin } from "../../auth/roles.js";
import type { HttpDeps } from "../deps.js";
import { principalOf } from "../request.js";

/** How the chain is built, for `scheme` in the verify answer (README "Audit hash chain" has the details). */
const SCHEME = {
  algorithm: "HMAC-SHA256",
  chain_structure:
    "per organization, events in sequence; each integrity_hash = HMAC-SHA256(chain key, canonical encoding of every field of the event, prev_event_id included, and the previous event's integrity_hash); the chain's first event links to nothing; events from before the chain began carry no hash",
  hash_field: "integrity_hash",
  link_field: "prev_event_id",
  documentation: "README.md#audit-hash-chain (the README shipped with the server)",
} as const;

export const auditRoutes =
  (deps: Pick<HttpDeps, "auditReader">): FastifyPluginAsync =>
  async (app) => {
    // The schemas come from @shardvault/api; response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    // Audit reads are for the organization's owner and admins; the `audit:read` scope is checked with every
    // route's scope (route-scopes.ts).
    const auditor = (request: Parameters<typeof principalOf>[0]) => {
      const user = principalOf(request);
      requireAdmin(user, "read the audit log");
      return user;
    };

    app.get<{ Querystring: Record<string, string | undefined> }>(
      "/v1/audit/events",
      {
        schema: { querystring: auditEventsQuery, response: { 200: auditEventsResponse, ...problemResponses } },
      },
      async (request) => {
        const user = auditor(request);
        const { limit, offset, ...filters } = request.query;
        const query: AuditQuery = {
          ...(filters as Omit<AuditQuery, "limit" | "offset">),
          limit: Math.min(Number(limit ?? 50), 1000),
          offset: Number(offset ?? 0),
        };
        return deps.auditReader.list(user.orgId, query);
      },
    );

    app.get<{ Querystring: AuditVerifyQuery }>(
      "/v1/audit/verify",
      { schema: { querystring: auditVerifyQuery, response: { 200: auditVerifyResponse, ...problemResponses } } },
      async (request) => {
        const user = auditor(request);
        const { from, to, limit } = request.query;
        const verdict = await deps.auditReader.verify(user.orgId, {
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          limit: Math.min(Number(limit ?? AUDIT_VERIFY_LIMITS.default), AUDIT_VERIFY_LIMITS.max),
        });
        return { ...verdict, scheme: SCHEME };
      },
    );

    app.get<{ Querystring: AuditExportQuery }>(
      "/v1/audit/export",
      {
        schema: {
          querystring: auditExportQuery,
          response: { 200: { description: "One event per line, in chain order", content: { [AUDIT_EXPORT_MEDIA_TYPE]: { schema: auditEventSchema } } }, ...problemResponses },
        },
      },
      async (request, reply) => {
        const user = auditor(request);
        const { from, to } = request.query;
        const events = deps.auditReader.export(user.orgId, { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
        // The first page is read before answering, so that a failure there is a problem answer. Then the rest
        // streams: a page is read only once the client has taken the previous lines, and a failure mid-way aborts
        // the chunked answer before its end, which a client sees as an error, never as a shorter export.
        const first = await events.next();
        const lines = Readable.from(
          (async function* () {
            if (first.done) return;
            yield `${JSON.stringify(first.value)}\n`;
            for await (const event of events) yield `${JSON.stringify(event)}\n`;
          })(),
        );
        return reply.type(AUDIT_EXPORT_MEDIA_TYPE).header("cache-control", "no-store").send(lines);
      },
    );
  };
