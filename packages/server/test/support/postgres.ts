/**
 * PostgreSQL for tests: each suite creates its own database on the server at `TEST_DATABASE_URL` (default
 * `postgres://postgres@127.0.0.1:5432/postgres`) and drops it afterwards.
 *
 * When PostgreSQL is unreachable, suites skip with a message naming what to start, except on CI
 * (`CI=true`), where an unreachable database is a broken setup and the suite fails instead:
 *
 *   const pgSkip = await postgresSkipReason();          // false when reachable
 *   describe("… on postgres", { skip: pgSkip }, () => { … });
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startServer, type DatabaseKind, type ServerHandle, type StartOptions } from "./harness.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

const START_HINT =
  "start PostgreSQL (e.g. `service postgresql start` or `pg_ctlcluster 15 main start`, trust auth for 127.0.0.1) " +
  "or point TEST_DATABASE_URL at a server where the user may create databases";

let probed: Promise<string | undefined> | undefined;

/** Undefined when the test server answers, otherwise why not. Probed once per process. */
function probe(): Promise<string | undefined> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return undefined;
    } catch (error) {
      return (error as Error).message || String(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return probed;
}

/**
 * `false` when PostgreSQL is reachable; otherwise a skip message naming what to start. With `CI=true` an
 * unreachable database throws instead, so that the suite fails.
 */
export async function postgresSkipReason(env: NodeJS.ProcessEnv = process.env): Promise<string | false> {
  const problem = await probe();
  if (problem === undefined) return false;
  const message = `PostgreSQL at ${redact(TEST_DATABASE_URL)} is unreachable (${problem}): ${START_HINT}`;
  if (env.CI === "true") throw new Error(`${message} (CI=true: failing instead of skipping)`);
  return message;
}

/** A client on `url`; the caller ends it. */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Runs `fn` with a client on `url`, ended afterwards. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** The new database's URL (the test server's URL with another database name). */
  url: string;
  name: string;
  /** Drops the database, disconnecting whoever is still connected. Idempotent. */
  drop(): Promise<void>;
}

/** Creates a uniquely named, empty database on the test server. */
export async function createTestDatabase(label = "t"): Promise<TestDatabase> {
  const name = `shardvault_test_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withClient(TEST_DATABASE_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(TEST_DATABASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** `postgresSkipReason()` for postgres, `false` for the embedded database. */
export async function skipReasonFor(kind: DatabaseKind): Promise<string | false> {
  return kind === "postgres" ? postgresSkipReason() : false;
}

/** A server with its own storage: a fresh data folder, and for postgres a fresh database. */
export interface Deployment {
  kind: DatabaseKind;
  server: ServerHandle;
  /** The database (postgres only). */
  database: TestDatabase | undefined;
  /** Every server started by this deployment, in order (the first start and each restart). */
  servers: ServerHandle[];
  /** Starts another server on the same data folder / database, with the admin key already known (and the first start's environment, unless `env` is given). */
  restart(opts?: Omit<StartOptions, "database" | "databaseUrl" | "dataDir">): Promise<ServerHandle>;
  /** Stops every server still running and drops the database. */
  dispose(): Promise<void>;
}

export async function deploy(kind: DatabaseKind, opts: Omit<StartOptions, "database" | "databaseUrl"> = {}): Promise<Deployment> {
  const database = kind === "postgres" ? await createTestDatabase(opts.dataDir ? "r" : "s") : undefined;
  let server: ServerHandle;
  try {
    server = await startServer({ ...opts, database: kind, ...(database ? { databaseUrl: database.url } : {}) });
  } catch (error) {
    await database?.drop();
    throw error;
  }
  const servers = [server];
  const deployment: Deployment = {
    kind,
    server,
    database,
    servers,
    async restart(more = {}) {
      const next = await startServer({
        adminKey: servers[0]!.adminKey,
        ...(opts.env ? { env: opts.env } : {}),
        ...more,
        database: kind,
        dataDir: server.dataDir,
        ...(database ? { databaseUrl: database.url } : {}),
      });
      servers.push(next);
      return next;
    },
    async dispose() {
      await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
      await database?.drop();
    },
  };
  return deployment;
}
