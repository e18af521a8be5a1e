/**
 * Shared pieces of the HTTP benchmarks: a server on a fresh PostgreSQL database (the test harness's),
 * a logged-in client, and autocannon run in its own process so the load generator does not share the
 * server's event loop or the benchmark's.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, withClient, type TestDatabase } from "../test/support/postgres.js";
import { REPO_ROOT, startServer, type ServerHandle } from "../test/support/harness.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ANCHOR_MAIN = join(HERE, "anchor-server.ts");

/** The 1-minute load average, printed beside every figure: other work on the machine skews them all. */
export const loadAverage = () => loadavg()[0]!;

/** The anchor server's PostgreSQL sessions name themselves, so that the server beside it on one database does not count them. */
const ANCHOR_APPLICATION = "shardvault-bench-anchor";

/** CPU ticks (user + system, 1/100 s) each process has used so far (Linux /proc; absent for a process that is gone or elsewhere). */
function cpuTicks(pids: readonly number[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // not on Linux, or the process ended
    }
  }
  return ticks;
}

/** CPU seconds used between two readings, by the processes present in both. */
function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, then] of before) ticks += Math.max(0, (after.get(pid) ?? then) - then);
  return ticks / 100; // USER_HZ, 100 on every Linux platform Node runs on
}

/** The PostgreSQL backends serving a database: the anchor's, or everyone else's. */
async function backendPids(db: TestDatabase, anchor: boolean): Promise<number[]> {
  const rows = await withClient(db.url, (c) =>
    c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name ${anchor ? "=" : "<>"} $2 AND pid <> pg_backend_pid()`, [
      db.name,
      ANCHOR_APPLICATION,
    ]),
  );
  return rows.rows.map((r) => r.pid);
}

/** A server under load: its process and its database sessions, whose CPU time a load counts. */
export interface Measured {
  /** The server's pid and its PostgreSQL backends' pids, as they are now. */
  pids(): Promise<{ server: number[]; database: number[] }>;
}

/** A started server and a client logged in as its admin. */
export interface BenchClient extends Measured {
  server: ServerHandle;
  token: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<any>;
  close(): Promise<void>;
}

/** A server on PostgreSQL, on a database of its own. */
export interface BenchServer extends BenchClient {
  db: TestDatabase;
}

/** The admin's client of `server`. */
async function clientOf(server: ServerHandle, pids: Measured["pids"], close: () => Promise<void>): Promise<BenchClient> {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, auth = token) => {
    const response = await fetch(server.url + path, {
      method,
      headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  let token = "";
  token = (await call("POST", "/v1/auth/api-key-token", { api_key: server.adminKey }, {}, "")).access_token;
  return { server, token, call: (method, path, body, headers) => call(method, path, body, headers), pids, close };
}

/** A server on a fresh PostgreSQL database; `main` runs a variant of the server (see startServer's `main`). */
export async function startBenchServer(env: Record<string, string> = {}, main?: string): Promise<BenchServer> {
  const db = await createTestDatabase("bench");
  const server = await startServer({ database: "postgres", databaseUrl: db.url, env, ...(main ? { main } : {}) });
  const pids = async () => ({ server: [server.process.pid!], database: await backendPids(db, false) });
  return { db, ...(await clientOf(server, pids, async () => (await server.stop(), await db.drop()))) };
}

/** A server on its embedded database (PGlite, in its own process), in a fresh data folder. */
export async function startEmbeddedBenchServer(): Promise<BenchClient> {
  const server = await startServer({ database: "pglite" });
  return clientOf(server, async () => ({ server: [server.process.pid!], database: [] }), async () => void (await server.stop()));
}

/** The anchor routes (bench/anchor-server.ts) on an existing bench database; `close` stops the server only. */
export async function startAnchorServer(db: TestDatabase): Promise<Measured & { url: string; close(): Promise<void> }> {
  const url = new URL(db.url);
  url.searchParams.set("application_name", ANCHOR_APPLICATION);
  const server = await startServer({ database: "postgres", databaseUrl: url.toString(), main: ANCHOR_MAIN });
  return {
    url: server.url,
    pids: async () => ({ server: [server.process.pid!], database: await backendPids(db, true) }),
    close: async () => void (await server.stop()),
  };
}

export interface LoadResult {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** The 1-minute load average when the measured run ended. */
  loadAverage: number;
  /**
   * CPU time per request of the server process and of its PostgreSQL backends, in µs, when the load was given
   * `measured`: unlike requests/s, these hardly depend on what else the machine runs.
   */
  serverCpuUs?: number;
  databaseCpuUs?: number;
}

export interface LoadOptions {
  name: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds?: number;
  warmupSeconds?: number;
  /** A request count instead of a duration. */
  amount?: number;
  /** Send every request to its own path (the URL's path plus `-<n>`). */
  uniquePaths?: boolean;
  /** Send the requests round N paths (the URL's path plus `-0` … `-<N-1>`). */
  cyclePaths?: number;
  /** The server under load, whose CPU time per request is reported. */
  measured?: Measured;
}

/** Runs autocannon in a child process: warm-up first (results discarded), then the measured run. */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  const run = (extra: { duration?: number; amount?: number }) =>
    new Promise<any>((resolve, reject) => {
      const spec = { method: "GET", headers: {}, ...opts, ...extra };
      const child = spawn(process.execPath, ["--import", "tsx", join(HERE, "autocannon-runner.ts"), JSON.stringify(spec)], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => (code === 0 && out ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited ${code}: ${err}`))));
    });
  if (opts.warmupSeconds) await run({ duration: opts.warmupSeconds });
  const pids = await opts.measured?.pids();
  const before = pids && [cpuTicks(pids.server), cpuTicks(pids.database)];
  const result = await run(opts.amount ? { amount: opts.amount } : { duration: opts.durationSeconds ?? 10 });
  const perRequest = (seconds: number) => (seconds * 1e6) / Math.max(1, result.requests.total);
  const cpu =
    pids && before
      ? { serverCpuUs: perRequest(cpuSecondsBetween(before[0]!, cpuTicks(pids.server))), databaseCpuUs: perRequest(cpuSecondsBetween(before[1]!, cpuTicks(pids.database))) }
      : {};
  return {
    name: opts.name,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    loadAverage: loadAverage(),
    ...cpu,
  };
}

/** The mean of several runs of one load (requests/s and latencies averaged, errors added up). */
export function meanOf(runs: readonly LoadResult[], name = `${runs[0]!.name} (mean of ${runs.length})`): LoadResult {
  const mean = (pick: (r: LoadResult) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const total = (pick: (r: LoadResult) => number) => runs.reduce((sum, r) => sum + pick(r), 0);
  return {
    name,
    requestsPerSecond: mean((r) => r.requestsPerSecond),
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    errors: total((r) => r.errors),
    non2xx: total((r) => r.non2xx),
    loadAverage: mean((r) => r.loadAverage),
    ...(runs.every((r) => r.serverCpuUs !== undefined) ? { serverCpuUs: mean((r) => r.serverCpuUs!), databaseCpuUs: mean((r) => r.databaseCpuUs!) } : {}),
  };
}

export function printTable(title: string, rows: LoadResult[]): void {
  console.log(`\n${title}`);
  const us = (value: number | undefined) => (value === undefined ? "" : value.toFixed(0));
  console.log("| endpoint | req/s | p50 ms | p99 ms | errors | non-2xx | load avg | server CPU µs/req | PostgreSQL CPU µs/req |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.requestsPerSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${r.non2xx} | ${r.loadAverage.toFixed(2)} | ${us(r.serverCpuUs)} | ${us(r.databaseCpuUs)} |`,
    );
  }
}

/** A 1 KiB printable value. */
export const VALUE_1K = "v".repeat(1024);
