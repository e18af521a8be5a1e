/**
 * `npm run bench:http`: requests/s and latency of GET /v1/health, secret PUT and secret GET over HTTP on
 * PostgreSQL, JWT auth, 1 KiB values, 50 connections, 3 s warm-up, 10 s measured. Every GET unwraps the DEK
 * at the provider and commits its audit event. Targets: secret GET ≥ 40% of health's requests/s; the same GET
 * by an agent allowed through a policy (among a few others of it: a deny elsewhere, a narrower allow) ≥ 90% of
 * the owner's.
 */
import { load, meanOf, printTable, startBenchServer, VALUE_1K, type LoadResult } from "./support.js";

const CONNECTIONS = 50;
const bench = await startBenchServer();
try {
  const auth = { authorization: `Bearer ${bench.token}`, "content-type": "application/json" };
  const vault = await bench.call("POST", "/v1/vaults", { name: "bench" });
  await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
  const common = { connections: CONNECTIONS, warmupSeconds: 3, durationSeconds: 10 };
  const health = await load({ ...common, name: "GET /v1/health", url: `${bench.server.url}/v1/health` });
  // Each PUT goes to its own path, as writes from many clients would.
  const put = await load({
    ...common,
    name: "PUT secret (1 KiB)",
    method: "PUT",
    url: `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/w`,
    uniquePaths: true,
    headers: auth,
    body: JSON.stringify({ type: "api_key", value: VALUE_1K }),
  });
  // An agent that reaches the vault only through its policies.
  const { agent, api_key } = await bench.call("POST", "/v1/agents", { name: "bench-agent", scopes: ["secrets:read"] });
  const grant = (body: Record<string, unknown>) => bench.call("POST", `/v1/vaults/${vault.id}/policies`, { principal_type: "agent", principal_id: agent.id, ...body });
  await grant({ secret_path_pattern: "bench/**", permissions: ["read"] });
  await grant({ secret_path_pattern: "bench/w", permissions: ["read", "write"], priority: 1 });
  await grant({ secret_path_pattern: "prod/**", permissions: ["read"], effect: "deny", priority: 5 });
  const agentToken = (await bench.call("POST", "/v1/auth/agent-token", { api_key })).access_token;
  // The owner's and the agent's reads run in the order owner, agent, agent, owner, so that a drift (the machine's
  // load, the audit table growing with every read) weighs on both alike; each figure is the mean of its runs.
  const readUrl = `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`;
  const readAs = (who: "owner" | "agent") =>
    who === "owner"
      ? load({ ...common, name: "GET secret (1 KiB), owner", url: readUrl, headers: auth })
      : load({ ...common, name: "GET secret (1 KiB), agent through a policy", url: readUrl, headers: { authorization: `Bearer ${agentToken}` } });
  const runs: Record<"owner" | "agent", LoadResult[]> = { owner: [], agent: [] };
  for (const who of ["owner", "agent", "agent", "owner"] as const) runs[who].push(await readAs(who));
  const [get, agentGet] = [meanOf(runs.owner), meanOf(runs.agent)];
  printTable(`HTTP on PostgreSQL, ${CONNECTIONS} connections, JWT auth`, [health, put, get, agentGet]);
  console.log(`\nthe runs, in order: ${[runs.owner[0]!, runs.agent[0]!, runs.agent[1]!, runs.owner[1]!].map((r) => r.requestsPerSecond.toFixed(0)).join(", ")} req/s`);
  const ratio = get.requestsPerSecond / health.requestsPerSecond;
  console.log(`\nsecret GET / health: ${(ratio * 100).toFixed(1)}% (target ≥ 40%: ${ratio >= 0.4 ? "PASS" : "MISS"})`);
  const policyRatio = agentGet.requestsPerSecond / get.requestsPerSecond;
  console.log(`agent GET through a policy / owner GET: ${(policyRatio * 100).toFixed(1)}% (target ≥ 90%: ${policyRatio >= 0.9 ? "PASS" : "MISS"})`);
} finally {
  await bench.close();
}
