/**
 * `npm run bench:http`: requests/s and latency of secret GET and PUT over HTTP on PostgreSQL, JWT auth, 1 KiB
 * values, 50 connections, each figure set against an anchor measured in the same run on the same database: a
 * bare Fastify route doing one prepared single-row SELECT, and one doing one INSERT (bench/anchor-server.ts,
 * same driver and pool size). Every GET unwraps the DEK at the provider and commits its audit event.
 *
 * Targets (ratios of requests/s):
 * - secret GET, plain vault, the owner's JWT ≥ 50% of the one-SELECT route;
 * - the same GET on a 2of3_multi_hsm vault ≥ 85% of the plain one;
 * - the same GET by an agent allowed through a policy (among a few others of it: a deny elsewhere, a narrower
 *   allow) ≥ 90% of the owner's;
 * - secret PUT ≥ 25% of the one-INSERT route;
 * - the audit hash chain's cost: secret GET with the chain ≥ 90% of the same server without it.
 *
 * Reads and writes are measured in rounds: every round runs each load once, one at a time, in an order that
 * rotates from round to round, so that a load on the machine that rises or falls favours none of them; ratios
 * are of the rounds' means. The chain's cost is also an A/B of two servers on the same PostgreSQL, each on its
 * own database: the built server, and bench/unchained-server.ts (the same build, audit events written without
 * the chain), loaded side by side (both at once, 25 connections each, so that whatever else runs on the machine
 * weighs on both alike), which decides that target. Last, the same GETs and PUT on the embedded default
 * (PGlite, in the server's process; no anchor, no target). The load average is printed beside every figure,
 * and the CPU time per request of the server and of its PostgreSQL sessions, which vary far less with it.
 */
import { fileURLToPath } from "node:url";
import {
  load,
  loadAverage,
  meanOf,
  printTable,
  startAnchorServer,
  startBenchServer,
  startEmbeddedBenchServer,
  VALUE_1K,
  type BenchClient,
  type LoadResult,
} from "./support.js";

const CONNECTIONS = 50;
const READ_ROUNDS = 3;
const WRITE_ROUNDS = 2;
const UNCHAINED_MAIN = fileURLToPath(new URL("./unchained-server.ts", import.meta.url));
const round = { connections: CONNECTIONS, warmupSeconds: 2, durationSeconds: 6 };
const sideBySide = { connections: CONNECTIONS / 2, warmupSeconds: 2, durationSeconds: 8 };
const load1 = () => loadAverage().toFixed(2);
const jsonHeaders = { "content-type": "application/json" };

/** A vault (plain, or MPC in `mode`) with one 1 KiB secret to read: its URL. */
async function vaultWithSecret(bench: BenchClient, mode?: string): Promise<string> {
  const vault = await bench.call("POST", "/v1/vaults", { name: `bench-${mode ?? "plain"}`, ...(mode ? { custody_mode: mode } : {}) });
  await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
  return `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`;
}

/** The loads on one server: GETs of a plain and a multi-HSM vault, by the owner and by an agent, and PUTs. */
async function prepare(bench: BenchClient, label: string) {
  const auth = { authorization: `Bearer ${bench.token}` };
  const measured = bench;
  const url = await vaultWithSecret(bench);
  const vaultId = new URL(url).pathname.split("/")[3]!;
  const mpcUrl = await vaultWithSecret(bench, "2of3_multi_hsm");
  // An agent that reaches the vault only through its policies (a narrower allow and a deny elsewhere beside).
  const { agent, api_key } = await bench.call("POST", "/v1/agents", { name: "bench-agent", scopes: ["secrets:read"] });
  const grant = (body: Record<string, unknown>) => bench.call("POST", `/v1/vaults/${vaultId}/policies`, { principal_type: "agent", principal_id: agent.id, ...body });
  await grant({ secret_path_pattern: "bench/**", permissions: ["read"] });
  await grant({ secret_path_pattern: "bench/w", permissions: ["read", "write"], priority: 1 });
  await grant({ secret_path_pattern: "prod/**", permissions: ["read"], effect: "deny", priority: 5 });
  const agentAuth = { authorization: `Bearer ${(await bench.call("POST", "/v1/auth/agent-token", { api_key })).access_token}` };
  return {
    get: (name: string, opts = round) => load({ ...opts, name: `GET secret, plain vault, ${label}, ${name}`, url, headers: auth, measured }),
    mpcGet: (name: string) => load({ ...round, name: `GET secret, 2of3_multi_hsm vault, ${label}, ${name}`, url: mpcUrl, headers: auth, measured }),
    agentGet: (name: string) => load({ ...round, name: `GET secret, plain vault, ${label}, agent through a policy, ${name}`, url, headers: agentAuth, measured }),
    // Each PUT goes to its own path, as writes from many clients would.
    put: (name: string) =>
      load({
        ...round,
        name: `PUT secret, plain vault, ${label}, ${name}`,
        method: "PUT",
        url: `${bench.server.url}/v1/vaults/${vaultId}/secrets/bench/w`,
        uniquePaths: true,
        headers: { ...auth, ...jsonHeaders },
        body: JSON.stringify({ type: "api_key", value: VALUE_1K }),
        measured,
      }),
  };
}

/** Runs every load once per round, the order rotating from round to round; answers each load's runs. */
async function inRounds(rounds: number, loads: Record<string, (name: string) => Promise<LoadResult>>): Promise<Record<string, LoadResult[]>> {
  const names = Object.keys(loads);
  const results: Record<string, LoadResult[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    const order = [...names.slice(i % names.length), ...names.slice(0, i % names.length)];
    for (const name of order) results[name]!.push(await loads[name]!(`round ${i + 1}`));
  }
  return results;
}

const perSecond = (r: LoadResult) => r.requestsPerSecond.toFixed(0);
function report(what: string, part: LoadResult, whole: LoadResult, target?: number): void {
  const ratio = part.requestsPerSecond / whole.requestsPerSecond;
  const verdict = target === undefined ? "no target; for information" : `target ≥ ${target * 100}%: ${ratio >= target ? "PASS" : "MISS"}`;
  const cpu = (r: LoadResult) => (r.serverCpuUs ?? 0) + (r.databaseCpuUs ?? 0);
  // CPU time per request (server and its PostgreSQL sessions) varies far less with the machine's other work.
  const cpuRatio = part.serverCpuUs === undefined || whole.serverCpuUs === undefined ? "" : `; CPU µs/req ${cpu(part).toFixed(0)} vs ${cpu(whole).toFixed(0)}, inverse ratio ${((cpu(whole) / cpu(part)) * 100).toFixed(1)}%`;
  console.log(`${what}: ${perSecond(part)} / ${perSecond(whole)} req/s = ${(ratio * 100).toFixed(1)}% (${verdict}${cpuRatio})`);
}

console.log(`load average (1 min) at start: ${load1()}`);
const chained = await startBenchServer();
const unchained = await startBenchServer({}, UNCHAINED_MAIN);
const anchor = await startAnchorServer(chained.db);
try {
  const [withChain, withoutChain] = [await prepare(chained, "chained"), await prepare(unchained, "unchained")];
  const anchorRow = await (await fetch(`${anchor.url}/anchor/rows`, { method: "POST", headers: jsonHeaders, body: JSON.stringify({ value: VALUE_1K }) })).json();
  const select = (name: string) => load({ ...round, name: `anchor: one SELECT, ${name}`, url: `${anchor.url}/anchor/select/${anchorRow.id}`, measured: anchor });
  const insert = (name: string) =>
    load({
      ...round,
      name: `anchor: one INSERT, ${name}`,
      method: "PUT",
      url: `${anchor.url}/anchor/insert/w`,
      uniquePaths: true,
      headers: jsonHeaders,
      body: JSON.stringify({ value: VALUE_1K }),
      measured: anchor,
    });

  const reads = await inRounds(READ_ROUNDS, {
    select,
    get: (n) => withChain.get(n),
    mpcGet: withChain.mpcGet,
    agentGet: withChain.agentGet,
    unchainedGet: (n) => withoutChain.get(n),
  });
  const writes = await inRounds(WRITE_ROUNDS, { insert, put: withChain.put, unchainedPut: withoutChain.put });
  const together: Array<[LoadResult, LoadResult]> = [];
  for (let i = 1; i <= READ_ROUNDS; i++) {
    together.push(await Promise.all([withChain.get(`side by side ${i}`, sideBySide), withoutChain.get(`side by side ${i}`, sideBySide)]));
  }
  const mean = (runs: LoadResult[]) => meanOf(runs, `${runs[0]!.name.replace(/, round 1$/, "")}, rounds' mean`);
  const means = Object.fromEntries(Object.entries({ ...reads, ...writes }).map(([name, runs]) => [name, mean(runs)])) as Record<string, LoadResult>;
  const chainedTogether = meanOf(together.map(([c]) => c), "GET secret, plain vault, chained, side by side, mean");
  const unchainedTogether = meanOf(together.map(([, u]) => u), "GET secret, plain vault, unchained, side by side, mean");
  printTable(`HTTP on PostgreSQL, JWT auth, 1 KiB values (${CONNECTIONS} connections; side by side ${sideBySide.connections} each)`, [
    ...Object.values(reads).flat(),
    ...Object.values(writes).flat(),
    ...together.flat(),
    ...Object.values(means),
    chainedTogether,
    unchainedTogether,
  ]);

  console.log("");
  report("secret GET (plain vault) / one-SELECT anchor", means.get!, means.select!, 0.5);
  report("secret GET (2of3_multi_hsm) / secret GET (plain)", means.mpcGet!, means.get!, 0.85);
  report("agent GET through a policy / owner GET", means.agentGet!, means.get!, 0.9);
  report("secret PUT (plain vault) / one-INSERT anchor", means.put!, means.insert!, 0.25);
  report("secret GET with the audit chain / without, side by side", chainedTogether, unchainedTogether, 0.9);
  report("secret GET with the audit chain / without, in rounds", means.get!, means.unchainedGet!);
  report("secret PUT with the audit chain / without, in rounds", means.put!, means.unchainedPut!);
} finally {
  await Promise.all([anchor.close(), chained.close(), unchained.close()]);
}

// The embedded default: what `npm start` runs without DATABASE_URL.
const embedded = await startEmbeddedBenchServer();
try {
  const loads = await prepare(embedded, "PGlite");
  const runs = await inRounds(WRITE_ROUNDS, { get: (n) => loads.get(n), mpcGet: loads.mpcGet, put: loads.put });
  const means = Object.values(runs).map((r) => meanOf(r, `${r[0]!.name.replace(/, round 1$/, "")}, rounds' mean`));
  printTable(`HTTP on the embedded database (PGlite), JWT auth, 1 KiB values (${CONNECTIONS} connections; no target)`, [...Object.values(runs).flat(), ...means]);
} finally {
  await embedded.close();
}
console.log(`\nload average (1 min) at end: ${load1()}`);
