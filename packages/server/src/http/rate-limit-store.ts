/**
 * A store for @fastify/rate-limit that counts in PostgreSQL (migration 120), so that every instance on one
 * database shares each counter: one statement per counted request, a fixed window per key, timed by the
 * database's clock. Rows of windows long past are deleted now and then.
 */
import type { FastifyRateLimitStore } from "@fastify/rate-limit";
import type { Queryable } from "../db/database.js";

const SWEEP_INTERVAL_MS = 60_000;

const INCREMENT = `
  INSERT INTO rate_limit_counters AS c (key, count, window_ends) VALUES ($1, 1, now() + $2 * interval '1 millisecond')
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN c.window_ends <= now() THEN 1 ELSE c.count + 1 END,
    window_ends = CASE WHEN c.window_ends <= now() THEN EXCLUDED.window_ends ELSE c.window_ends END
  RETURNING count, GREATEST(0, ceil(extract(epoch FROM c.window_ends - now()) * 1000))::int AS ttl`;

export interface SharedRateLimitStore {
  /** The store class the plugin instantiates. */
  Store: new () => FastifyRateLimitStore;
  /** Stops the sweeping of old rows. */
  stop(): void;
}

export function postgresRateLimitStore(db: Queryable): SharedRateLimitStore {
  const sweep = setInterval(() => void db.query("DELETE FROM rate_limit_counters WHERE window_ends < now()").catch(() => undefined), SWEEP_INTERVAL_MS);
  sweep.unref();
  class PostgresStore implements FastifyRateLimitStore {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
      db.query<{ count: number; ttl: number }>(INCREMENT, [key, timeWindow]).then(
        ([row]) => callback(null, { current: row!.count, ttl: row!.ttl }),
        (error: Error) => callback(error),
      );
    }
    // Keys carry their limit's name (http/rate-limits.ts), so every limit shares one store.
    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return { Store: PostgresStore, stop: () => clearInterval(sweep) };
}
