/**
 * `GET /metrics`: the Prometheus text format. Open, or — with `metrics.bearer_token_env` in the configuration
 * file — only to `Authorization: Bearer <that token>`, compared in constant time.
 */
import { createHash } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";
import { equalBytes } from "@shardvault/crypto";
import { unauthorized } from "../errors.js";
import type { Metrics } from "./metrics.js";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Digests first, so that the comparison takes the same time whatever the lengths. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(header ?? "")?.[1] ?? "";
  return equalBytes(digest(given), digest(token));
}

export const metricsRoutes =
  (deps: { metrics: Metrics; metricsToken: string | undefined }): FastifyPluginAsync =>
  async (app) => {
    const { registry } = deps.metrics;
    app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      if (deps.metricsToken !== undefined && !bearerMatches(request.headers.authorization, deps.metricsToken)) {
        throw unauthorized("the metrics need the bearer token named by metrics.bearer_token_env in the configuration file");
      }
      return reply.type(registry.contentType).send(await registry.metrics());
    });
  };
