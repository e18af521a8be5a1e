/** The HTTP layer: Fastify with the API's error shape, JSON handling, authentication and routes. */
import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import { AppError } from "../errors.js";
import { SERVER_VERSION } from "../version.js";
import { registerDashboard } from "./dashboard.js";
import type { HttpDeps } from "./deps.js";
import { errorHandler, notFoundHandler, sendProblem } from "./problem.js";
import { agentRoutes } from "./routes/agents.js";
import { auditRoutes } from "./routes/audit.js";
import { authRoutes } from "./routes/auth.js";
import { cmekRoutes } from "./routes/cmek.js";
import { healthRoutes } from "./routes/health.js";
import { mpcRoutes } from "./routes/mpc.js";
import { secretRoutes } from "./routes/secrets.js";
import { vaultRoutes } from "./routes/vaults.js";

export function buildApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    // JSON escaping can grow a value up to six-fold; the value limit itself is checked by the service.
    bodyLimit: Math.max(1024 * 1024, deps.limits.maxValueBytes * 6 + deps.limits.maxMetadataBytes * 6 + 64 * 1024),
    ...(deps.https ? { https: deps.https } : {}),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    // HEAD must not run a GET handler: a HEAD would read (and count, and audit) a secret.
    exposeHeadRoutes: false,
    // Errors the router raises before any handler (e.g. bad percent-encoding) get the API's shape too.
    frameworkErrors: (error, _request, reply) => {
      const invalidUrl = error.code === "FST_ERR_BAD_URL" || error.code === "FST_ERR_ASYNC_CONSTRAINT";
      sendProblem(reply, new AppError(400, invalidUrl ? "invalid_url" : "bad_request", invalidUrl ? "the URL is not valid percent-encoding" : error.message));
    },
  });

  app.decorateRequest("principal", undefined);
  app.setErrorHandler(errorHandler(deps.log));
  app.setNotFoundHandler(notFoundHandler);

  // JSON only: without this, Fastify's built-in text/plain parser would hand a string to the routes.
  app.removeAllContentTypeParsers();
  // An empty body with Content-Type: application/json (clients send it on GET and DELETE) is no body.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "" || (typeof body === "string" && body.trim() === "")) return done(null, undefined);
    parseJson(request, body as string, done);
  });

  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.config.public || request.is404) return;
    request.principal = await deps.authenticate(request.headers.authorization, request.ip);
  });

  // The OpenAPI document is generated from the same route schemas that validate requests.
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Shardvault API", version: SERVER_VERSION, description: "1claw-compatible vault API with MPC secret storage" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    // Secret routes end in a wildcard: the document names it {path}.
    transform: ({ schema, url }) => ({ schema, url: url.replace(/\*$/, ":path") }),
  });
  app.get("/v1/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.register(healthRoutes(deps));
  app.register(authRoutes(deps));
  app.register(agentRoutes(deps));
  app.register(auditRoutes(deps));
  app.register(vaultRoutes(deps));
  app.register(secretRoutes(deps));
  app.register(cmekRoutes(deps));
  app.register(mpcRoutes(deps));
  // The web dashboard (packages/dashboard/dist) at `/`; the API keeps /v1.
  registerDashboard(app);
  return app;
}
