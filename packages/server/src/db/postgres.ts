/** PostgreSQL through node-postgres, for production (`DATABASE_URL`). */
import { createHash } from "node:crypto";
import pg from "pg";
import type { Database, Queryable } from "./database.js";

/** The URL without its password, for start-up output. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `sv_${createHash("sha256").update(sql).digest("hex").slice(0, 24)}`;
    statementNames.set(sql, name);
  }
  return name;
}

export async function openPostgres(url: string, maxConnections = 20): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const client = await pool.connect(); // fail fast at start-up when the database is unreachable
  client.release();
  const wrap = (q: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []) {
      // Named by their text, statements are parsed and planned once per connection, not on every call.
      return (await q.query({ name: statementName(sql), text: sql, values: params as unknown[] })).rows as T[];
    },
  });
  return {
    kind: "postgres",
    description: `PostgreSQL at ${redactDatabaseUrl(url)}`,
    ...wrap(pool),
    async transaction(fn) {
      const conn = await pool.connect();
      try {
        await conn.query("BEGIN");
        const result = await fn(wrap(conn));
        await conn.query("COMMIT");
        return result;
      } catch (error) {
        await conn.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        conn.release();
      }
    },
    async withAdvisoryLock(lockId, fn) {
      const conn = await pool.connect();
      try {
        await conn.query("SELECT pg_advisory_lock($1)", [lockId]);
        try {
          return await fn();
        } finally {
          await conn.query("SELECT pg_advisory_unlock($1)", [lockId]);
        }
      } finally {
        conn.release();
      }
    },
    close: () => pool.end(),
  };
}
