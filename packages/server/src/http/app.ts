/** The HTTP layer: Fastify with the API's error shape, JSON handling, authentication and routes. */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { AuditLog } from "../audit/audit.js";
import { AppError, refused } from "../errors.js";
import { scopeAllows } from "../policies/decide.js";
import { SERVER_VERSION } from "../version.js";
import { metricsRoutes } from "../observability/metrics-route.js";
import { logRequest, registerRequestId, REQUEST_ID_HEADER, requestIdOptions } from "../observability/request-log.js";
import { registerDashboard } from "./dashboard.js";
import { registerRateLimits } from "./rate-limits.js";
import type { HttpDeps } from "./deps.js";
import { errorHandler, notFoundHandler, sendProblem } from "./problem.js";
import { agentRoutes } from "./routes/agents.js";
import { auditRoutes } from "./routes/audit.js";
import { authRoutes } from "./routes/auth.js";
import { cmekRoutes } from "./routes/cmek.js";
import { healthRoutes } from "./routes/health.js";
import { memberRoutes } from "./routes/members.js";
import { policyRoutes } from "./routes/policies.js";
import { ROUTE_SCOPES, routeKey, type RouteScope } from "./route-scopes.js";
import { mpcRoutes } from "./routes/mpc.js";
import { secretRoutes } from "./routes/secrets.js";
import { shareRoutes } from "./routes/shares.js";
import { vaultRoutes } from "./routes/vaults.js";

const routeScopeOf = (request: FastifyRequest): RouteScope => ROUTE_SCOPES[routeKey(request.method, request.routeOptions.url ?? "")]!;

/**
 * Every access refusal of a known caller (a missing scope or role, a vault it may not see, a path or permission
 * its policies refuse) is audited as `access.denied` with its reason, before the answer goes out. Value reads
 * record their refusals themselves (`secret.read_refused`).
 */
async function auditRefusal(audit: AuditLog, request: FastifyRequest, error: unknown): Promise<void> {
  const refusal = error instanceof AppError ? error.extra.refusal : undefined;
  if (!refusal || !request.principal || routeScopeOf(request)?.auditsRefusals) return;
  const route = `${request.method} ${request.routeOptions.url ?? "?"}`;
  const vaultId = typeof refusal.vault_id === "string" ? refusal.vault_id : undefined;
  await audit.record(request.principal, {
    action: "access.denied",
    resourceType: vaultId ? "vault" : "route",
    resourceId: vaultId ?? route,
    details: { reason: (error as AppError).code, route, ...refusal },
  });
}

export function buildApp(deps: HttpDeps): FastifyInstance {
  // Every answered request: its log line and its metrics.
  const finished = (request: FastifyRequest, reply: FastifyReply) => {
    logRequest(request, reply);
    deps.metrics.request(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  };
  const app = Fastify({
    loggerInstance: deps.log.pino as FastifyBaseLogger,
    trustProxy: deps.trustProxy,
    ...requestIdOptions,
    // JSON escaping can grow a value up to six-fold; the value limit itself is checked by the service.
    bodyLimit: Math.max(1024 * 1024, deps.limits.maxValueBytes * 6 + deps.limits.maxMetadataBytes * 6 + 64 * 1024),
    ...(deps.https ? { https: deps.https } : {}),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    // HEAD must not run a GET handler: a HEAD would read (and count, and audit) a secret.
    exposeHeadRoutes: false,
    // Errors the router raises before any handler (e.g. bad percent-encoding) get the API's shape too, and
    // their request id and log line (no hook runs for them).
    frameworkErrors: (error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      const invalidUrl = error.code === "FST_ERR_BAD_URL" || error.code === "FST_ERR_ASYNC_CONSTRAINT";
      sendProblem(reply, new AppError(400, invalidUrl ? "invalid_url" : "bad_request", invalidUrl ? "the URL is not valid percent-encoding" : error.message));
      finished(request, reply);
    },
  });

  app.decorateRequest("principal", undefined);
  registerRequestId(app);
  app.addHook("onResponse", async (request, reply) => finished(request, reply));

  // A request in flight when the server starts closing is answered with `Connection: close`: otherwise its
  // keep-alive connection, idle only after the close began, would hold the stop for the keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  const handleError = errorHandler();
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    await auditRefusal(deps.audit, request, error);
    return handleError(error, request, reply);
  });
  app.setNotFoundHandler(notFoundHandler);

  // Every authenticated route names its scope in ROUTE_SCOPES; one that does not stops the start-up.
  app.addHook("onRoute", (route) => {
    if (route.config?.public) return;
    for (const method of [route.method].flat()) {
      if (!ROUTE_SCOPES[routeKey(method, route.url)]) throw new Error(`route ${method} ${route.url} has no entry in http/route-scopes.ts`);
    }
  });

  registerRateLimits(app, deps.rateLimits, deps.rateLimitStore);

  // JSON only: without this, Fastify's built-in text/plain parser would hand a string to the routes.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  // The body arrives as bytes and is decoded strictly: a lenient decoder would turn invalid UTF-8 into U+FFFD
  // and store a value the client never sent.
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new AppError(400, "invalid_json", "the request body is not valid UTF-8 (JSON text must be UTF-8)"), undefined);
    }
    // An empty body with Content-Type: application/json (clients send it on GET and DELETE) is no body.
    if (text.trim() === "") return done(null, undefined);
    parseJson(request, text, done);
  });

  // One query authenticates the caller and, for a route under /v1/vaults/{vault_id}, loads that vault with the
  // caller's policies on it (and, for a value read, the version it names); the services decide from those rows.
  // Scopes are checked here, before anything runs.
  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config.public || request.is404) return;
    const { vault_id: vaultId } = request.params as { vault_id?: string };
    const read = vaultId !== undefined ? request.routeOptions.config.secretRead?.(request) : undefined;
    const principal = await deps.authenticate(request.headers.authorization, { ip: request.ip, ...(vaultId !== undefined ? { vaultId } : {}), ...(read ? { read } : {}) });
    request.principal = principal;
    const { scope } = routeScopeOf(request);
    if (scope && !scopeAllows(principal.scopes, scope)) {
      const detail = scope === "*" ? "this call needs credentials without scopes (or with the \"*\" scope)" : `this call needs the ${scope} scope`;
      throw refused(403, "scope_missing", detail, { scope });
    }
  });

  // The OpenAPI document is generated from the same route schemas that validate requests.
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Shardvault API", version: SERVER_VERSION, description: "1claw-compatible vault API with MPC secret storage" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    // Secret routes end in a wildcard: the document names it {path}, or {path}/{version} where it ends in one.
    transform: ({ schema, url, route }) => {
      const segments = route.config?.wildcard ?? ["path"];
      return { schema, url: url.replace(/\*$/, segments.map((name) => `:${name}`).join("/")) };
    },
  });
  app.get("/v1/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.register(healthRoutes(deps));
  app.register(metricsRoutes(deps));
  app.register(authRoutes(deps));
  app.register(agentRoutes(deps));
  app.register(auditRoutes(deps));
  app.register(memberRoutes(deps));
  app.register(vaultRoutes(deps));
  app.register(policyRoutes(deps));
  app.register(secretRoutes(deps));
  app.register(shareRoutes(deps));
  app.register(cmekRoutes(deps));
  app.register(mpcRoutes(deps));
  // The web dashboard (packages/dashboard/dist) at `/`; the API keeps /v1.
  registerDashboard(app);
  return app;
}
