/**
 * `npm run bench:http`: requests/s and latency of GET /v1/health, secret PUT and secret GET over HTTP on
 * PostgreSQL, JWT auth, 1 KiB values, 50 connections, 3 s warm-up, 10 s measured. Every GET unwraps the DEK
 * at the provider and commits its audit event. Targets: secret GET ≥ 40% of health's requests/s; the same GET
 * by an agent allowed through a policy (among a few others of it: a deny elsewhere, a narrower allow) ≥ 90% of
 * the owner's; and the audit hash chain's cost: secret GET with the chain ≥ 90% of the same server without it.
 *
 * The chain's cost is an A/B of two servers on the same PostgreSQL, each on its own database: the built
 * server, and bench/unchained-server.ts (the same build, audit events written without the chain). Measured
 * two ways, three rounds each: side by side (both loaded at once, 25 connections each, so that whatever else
 * runs on the machine weighs on both alike; the ratio of their requests/s is the ratio of their costs per
 * request), which decides the target; and in alternation (one at a time, which goes first alternating),
 * whose figures a busy machine skews more. The load average is printed: other work on the machine skews every figure.
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { load, meanOf, printTable, startBenchServer, VALUE_1K, type BenchServer, type LoadResult } from "./support.js";

const CONNECTIONS = 50;
const ROUNDS = 3;
const UNCHAINED_MAIN = fileURLToPath(new URL("./unchained-server.ts", import.meta.url));
const common = { connections: CONNECTIONS, warmupSeconds: 3, durationSeconds: 10 };
const round = { connections: CONNECTIONS, warmupSeconds: 2, durationSeconds: 6 };
const sideBySide = { connections: CONNECTIONS / 2, warmupSeconds: 2, durationSeconds: 8 };
const load1 = () => loadavg()[0]!.toFixed(2);

/** A vault with one 1 KiB secret to read; answers the request specs for reading it and writing new paths. */
async function prepare(bench: BenchServer, label: string) {
  const auth = { authorization: `Bearer ${bench.token}`, "content-type": "application/json" };
  const vault = await bench.call("POST", "/v1/vaults", { name: "bench" });
  await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
  const url = `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`;
  // An agent that reaches the vault only through its policies (a narrower allow and a deny elsewhere beside).
  const { agent, api_key } = await bench.call("POST", "/v1/agents", { name: "bench-agent", scopes: ["secrets:read"] });
  const grant = (body: Record<string, unknown>) => bench.call("POST", `/v1/vaults/${vault.id}/policies`, { principal_type: "agent", principal_id: agent.id, ...body });
  await grant({ secret_path_pattern: "bench/**", permissions: ["read"] });
  await grant({ secret_path_pattern: "bench/w", permissions: ["read", "write"], priority: 1 });
  await grant({ secret_path_pattern: "prod/**", permissions: ["read"], effect: "deny", priority: 5 });
  const agentAuth = { authorization: `Bearer ${(await bench.call("POST", "/v1/auth/agent-token", { api_key })).access_token}` };
  return {
    get: (name: string, opts: typeof round) => load({ ...opts, name: `GET secret (1 KiB), ${label}, ${name}`, url, headers: auth }),
    agentGet: (name: string, opts: typeof round) => load({ ...opts, name: `GET secret (1 KiB), ${label}, agent through a policy, ${name}`, url, headers: agentAuth }),
    // Each PUT goes to its own path, as writes from many clients would.
    put: () =>
      load({
        ...common,
        name: `PUT secret (1 KiB), ${label}`,
        method: "PUT",
        url: `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/w`,
        uniquePaths: true,
        headers: auth,
        body: JSON.stringify({ type: "api_key", value: VALUE_1K }),
      }),
  };
}

console.log(`load average (1 min) at start: ${load1()}`);
const chained = await startBenchServer();
const unchained = await startBenchServer({}, UNCHAINED_MAIN);
try {
  const [withChain, withoutChain] = [await prepare(chained, "chained"), await prepare(unchained, "unchained")];
  const health = await load({ ...common, name: "GET /v1/health", url: `${chained.server.url}/v1/health` });
  const puts = [await withChain.put(), await withoutChain.put()];
  const together: Array<[LoadResult, LoadResult]> = [];
  for (let i = 1; i <= ROUNDS; i++) {
    together.push(await Promise.all([withChain.get(`side by side ${i}`, sideBySide), withoutChain.get(`side by side ${i}`, sideBySide)]));
  }
  const chainedTogether = meanOf(together.map(([c]) => c), "GET secret (1 KiB), chained, side by side, mean");
  const unchainedTogether = meanOf(together.map(([, u]) => u), "GET secret (1 KiB), unchained, side by side, mean");
  const chainedGets: LoadResult[] = [];
  const unchainedGets: LoadResult[] = [];
  // Which goes first alternates (AB BA AB), so that a load that keeps rising or falling favours neither.
  for (let i = 1; i <= ROUNDS; i++) {
    const pair = [async () => chainedGets.push(await withChain.get(`round ${i}`, round)), async () => unchainedGets.push(await withoutChain.get(`round ${i}`, round))];
    for (const run of i % 2 === 1 ? pair : pair.reverse()) await run();
  }
  const get = meanOf(chainedGets, "GET secret (1 KiB), chained, rounds' mean");
  const agentGets: LoadResult[] = [];
  for (let i = 1; i <= ROUNDS; i++) agentGets.push(await withChain.agentGet(`round ${i}`, round));
  const agentGet = meanOf(agentGets, "GET secret (1 KiB), chained, agent through a policy, rounds' mean");
  const baseline = meanOf(unchainedGets, "GET secret (1 KiB), unchained, rounds' mean");
  printTable(`HTTP on PostgreSQL, JWT auth (${CONNECTIONS} connections; side by side ${sideBySide.connections} each)`, [
    health,
    ...puts,
    ...together.flat(),
    chainedTogether,
    unchainedTogether,
    ...chainedGets,
    ...unchainedGets,
    ...agentGets,
    get,
    baseline,
    agentGet,
  ]);

  const ratio = get.requestsPerSecond / health.requestsPerSecond;
  console.log(`\nsecret GET / health: ${(ratio * 100).toFixed(1)}% (target ≥ 40%: ${ratio >= 0.4 ? "PASS" : "MISS"})`);
  const perSecond = (r: LoadResult) => r.requestsPerSecond.toFixed(0);
  const policyRatio = agentGet.requestsPerSecond / get.requestsPerSecond;
  console.log(`agent GET through a policy / owner GET: ${perSecond(agentGet)} / ${perSecond(get)} req/s = ${(policyRatio * 100).toFixed(1)}% (target ≥ 90%: ${policyRatio >= 0.9 ? "PASS" : "MISS"})`);
  const sideRatio = chainedTogether.requestsPerSecond / unchainedTogether.requestsPerSecond;
  console.log(
    `secret GET with the audit chain / without, side by side: ${perSecond(chainedTogether)} / ${perSecond(unchainedTogether)} req/s = ` +
      `${(sideRatio * 100).toFixed(1)}% (target ≥ 90%: ${sideRatio >= 0.9 ? "PASS" : "MISS"})`,
  );
  const alternating = get.requestsPerSecond / baseline.requestsPerSecond;
  console.log(`secret GET with the audit chain / without, in alternation: ${perSecond(get)} / ${perSecond(baseline)} req/s = ${(alternating * 100).toFixed(1)}%`);
  const putCost = puts[0]!.requestsPerSecond / puts[1]!.requestsPerSecond;
  console.log(`secret PUT with the audit chain / without: ${(putCost * 100).toFixed(1)}% (no target; for information)`);
  console.log(`load average (1 min) at end: ${load1()}`);
} finally {
  await Promise.all([chained.close(), unchained.close()]);
}
