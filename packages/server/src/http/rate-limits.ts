/**
 * Rate limits (@fastify/rate-limit counts; this module decides what and answers 429). A route opts into a
 * named limit with `config: { rateLimited: "<name>" }`; every authenticated route that is not a GET also counts
 * against `writes`. Counted per client address (`request.ip`: the proxy's unless `trust_proxy` says whom to
 * believe), per principal or per organization, as LIMITS says. Over the limit: 429 `rate_limited` in the
 * problem shape, with `Retry-After`. Counters live in PostgreSQL when that is the database, so every instance
 * counts together, and in each process's memory on PGlite.
 */
import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RATE_LIMIT_NAMES, type RateLimit, type RateLimitName, type RateLimits } from "../config/rate-limits.js";
import { AppError } from "../errors.js";
import type { SharedRateLimitStore } from "./rate-limit-store.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The named rate limit this route counts against (besides `writes`, for writes). */
    rateLimited?: RateLimitName;
  }
}

type CountedBy = "client address" | "principal" | "organization";

const LIMITS: Record<RateLimitName, { by: CountedBy; what: string }> = {
  token_exchange: { by: "client address", what: "token exchanges" },
  sign_in: { by: "client address", what: "sign-ins" },
  invite_acceptance: { by: "client address", what: "invitation acceptances" },
  writes: { by: "principal", what: "writes" },
  share_creation: { by: "organization", what: "shares created" },
  share_opening: { by: "client address", what: "share openings" },
};

function keyOf(request: FastifyRequest, by: CountedBy): string {
  if (by === "client address") return normalizeIP(request.ip);
  // These limits apply to authenticated routes only: the authentication hook ran before.
  const principal = request.principal!;
  return by === "principal" ? principal.id : principal.orgId;
}

const rateLimited = (name: RateLimitName, limit: RateLimit, retryAfterSeconds: number) => {
  const { by, what } = LIMITS[name];
  return new AppError(429, "rate_limited", `too many ${what}: at most ${limit.max} per ${limit.windowSeconds} s per ${by}; retry in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });
};

export function registerRateLimits(app: FastifyInstance, limits: RateLimits, shared: SharedRateLimitStore | undefined): void {
  app.register(rateLimit, { global: false, ...(shared ? { store: shared.Store } : {}) });

  // Made on first use: the plugin's decorator exists once the plugin has loaded, after the routes are declared.
  const counters = new Map<RateLimitName, ReturnType<FastifyInstance["createRateLimit"]>>();
  const counter = (name: RateLimitName, limit: RateLimit) => {
    let count = counters.get(name);
    if (!count) {
      const { by } = LIMITS[name];
      count = app.createRateLimit({ max: limit.max, timeWindow: limit.windowSeconds * 1000, keyGenerator: (request) => `${name}:${keyOf(request, by)}` });
      counters.set(name, count);
    }
    return count;
  };

  app.addHook("onRoute", (route) => {
    const named = route.config?.rateLimited;
    if (named !== undefined && !RATE_LIMIT_NAMES.includes(named)) throw new Error(`route ${route.url} names an unknown rate limit "${named}"`);
    const isWrite = !route.config?.public && [route.method].flat().some((method) => method !== "GET" && method !== "HEAD");
    const applied = [...(named ? [named] : []), ...(isWrite ? (["writes"] as const) : [])].filter((name) => limits[name] !== null);
    if (applied.length === 0) return;
    // A route hook runs after the app's own onRequest hooks (authentication), before the body is read.
    const check = async (request: FastifyRequest) => {
      for (const name of applied) {
        const limit = limits[name]!;
        const result = await counter(name, limit)(request);
        if (!result.isAllowed && result.isExceeded) throw rateLimited(name, limit, Math.max(1, result.ttlInSeconds));
      }
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), check];
  });
}
