import type { FastifyPluginAsync } from "fastify";
import { documentOnlySerializer, healthResponse, hsmHealthResponse } from "@shardvault/api";
import { SERVER_VERSION } from "../../version.js";
import type { HttpDeps } from "../deps.js";

export const healthRoutes =
  (deps: Pick<HttpDeps, "health" | "authenticate">): FastifyPluginAsync =>
  async (app) => {
    // Response schemas document the API and do not filter answers.
    app.setSerializerCompiler(documentOnlySerializer);

    app.get("/v1/health", { config: { public: true }, schema: { response: { 200: healthResponse } } }, async () => ({
      status: deps.health.current().status,
      version: SERVER_VERSION,
    }));

    // Without a user token only the overall status; per-slot detail names the deployment's providers.
    app.get("/v1/health/hsm", { config: { public: true }, schema: { response: { 200: hsmHealthResponse } } }, async (request) => {
      const { hsm } = deps.health.current();
      const principal = request.headers.authorization ? await deps.authenticate(request.headers.authorization).catch(() => undefined) : undefined;
      if (principal?.type !== "user") return { status: hsm.status };
      return {
        status: hsm.status,
        providers: hsm.providers.map((p) => ({
          slot: p.slot,
          backend: p.backend,
          status: p.status,
          last_latency_ms: p.latencyMs,
          development: p.development,
          corrupt_shares: p.corruptShares,
        })),
      };
    });
  };
