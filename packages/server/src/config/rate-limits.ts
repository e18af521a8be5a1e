/**
 * The rate limits a deployment sets (`rate_limits` in the configuration file), each a fixed window: at most
 * `max` requests per `window_seconds`. What each counts, and per whom, is http/rate-limits.ts's. `null` turns
 * a limit off. The defaults guard what an outsider can hammer — sign-in, token exchange, invitations, share
 * links (opening and creating) — and never slow a trusted client: `writes` is off unless a deployment sets it
 * (a backstop for untrusted callers; counting it costs a statement per write on PostgreSQL).
 */
import { ConfigError } from "../providers/backend.js";

export const RATE_LIMIT_NAMES = ["token_exchange", "sign_in", "invite_acceptance", "writes", "share_creation", "share_opening"] as const;
export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];

export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export type RateLimits = Readonly<Record<RateLimitName, RateLimit | null>>;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  token_exchange: { max: 300, windowSeconds: 60 },
  sign_in: { max: 30, windowSeconds: 60 },
  invite_acceptance: { max: 30, windowSeconds: 60 },
  writes: null,
  share_creation: { max: 10, windowSeconds: 60 },
  share_opening: { max: 60, windowSeconds: 60 },
};

const positive = (value: unknown, where: string): number => {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new ConfigError(`${where} must be a positive integer`);
  return value as number;
};

/** The file's `rate_limits` over the defaults: only the limits it names change. */
export function parseRateLimits(value: unknown): RateLimits {
  if (value === undefined) return DEFAULT_RATE_LIMITS;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(`"rate_limits" must be an object`);
  const limits: Record<RateLimitName, RateLimit | null> = { ...DEFAULT_RATE_LIMITS };
  for (const [name, limit] of Object.entries(value)) {
    if (!RATE_LIMIT_NAMES.includes(name as RateLimitName)) throw new ConfigError(`unknown rate limit "${name}" (known: ${RATE_LIMIT_NAMES.join(", ")})`);
    const where = `rate_limits.${name}`;
    if (limit === null) {
      limits[name as RateLimitName] = null;
      continue;
    }
    if (typeof limit !== "object" || Array.isArray(limit)) throw new ConfigError(`${where} must be {"max", "window_seconds"} or null`);
    const { max, window_seconds, ...rest } = limit as Record<string, unknown>;
    const unknown = Object.keys(rest)[0];
    if (unknown !== undefined) throw new ConfigError(`${where}: unknown key "${unknown}"`);
    limits[name as RateLimitName] = { max: positive(max, `${where}.max`), windowSeconds: positive(window_seconds ?? 60, `${where}.window_seconds`) };
  }
  return limits;
}
