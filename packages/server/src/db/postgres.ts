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

const RELISTEN_DELAY_MS = 1000;

/** One connection outside the pool for LISTEN, re-established (and every listener told) when it is lost. */
function createListener(url: string) {
  const listeners = new Map<string, Array<() => void>>();
  let client: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const notifyAll = () => listeners.forEach((callbacks) => callbacks.forEach((onNotify) => onNotify()));

  /** Connects once however many callers ask at the same time; LISTENs on every channel known by then. */
  const connect = () => (connecting ??= openConnection().finally(() => (connecting = undefined)));

  async function openConnection(): Promise<void> {
    const conn = new pg.Client({ connectionString: url });
    conn.on("notification", (message) => listeners.get(message.channel)?.forEach((onNotify) => onNotify()));
    conn.on("error", () => {
      if (client === conn) client = undefined;
      conn.end().catch(() => undefined);
      scheduleReconnect();
    });
    await conn.connect();
    if (closed) return void (await conn.end());
    for (const channel of listeners.keys()) await conn.query(`LISTEN ${conn.escapeIdentifier(channel)}`);
    client = conn;
  }

  function scheduleReconnect(): void {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().then(notifyAll, scheduleReconnect);
    }, RELISTEN_DELAY_MS);
    retry.unref();
  }

  return {
    async listen(channel: string, onNotify: () => void): Promise<void> {
      const callbacks = listeners.get(channel);
      if (callbacks) return void callbacks.push(onNotify);
      listeners.set(channel, [onNotify]);
      await connecting?.catch(() => undefined);
      // LISTEN on a channel already listened to is a no-op.
      if (client) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      else await connect();
    },
    async close(): Promise<void> {
      closed = true;
      clearTimeout(retry);
      await connecting?.catch(() => undefined);
      await client?.end().catch(() => undefined);
    },
  };
}

export async function openPostgres(url: string, maxConnections = 20): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const client = await pool.connect(); // fail fast at start-up when the database is unreachable
  client.release();
  const listener = createListener(url);
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
    listen: (channel, onNotify) => listener.listen(channel, onNotify),
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
    async tryAdvisoryLock(key) {
      // The lock belongs to this connection's session: the connection is kept until the lock is released.
      const conn = await pool.connect();
      let held = false;
      try {
        const { rows } = await conn.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [key.toString()]);
        held = rows[0]!.locked;
      } finally {
        if (!held) conn.release();
      }
      if (!held) return undefined;
      return {
        async release() {
          try {
            await conn.query("SELECT pg_advisory_unlock($1::bigint)", [key.toString()]);
            conn.release();
          } catch (error) {
            // A broken connection has lost its session, and the lock with it: it is not reused.
            conn.release(error as Error);
          }
        },
      };
    },
    async close() {
      await listener.close();
      await pool.end();
    },
  };
}
