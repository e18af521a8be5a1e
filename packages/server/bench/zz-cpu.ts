import { load, startBenchServer, VALUE_1K } from "./support.js";
const bench = await startBenchServer();
const vault = await bench.call("POST", "/v1/vaults", { name: "p" });
await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
const url = `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`;
const auth = { authorization: `Bearer ${bench.token}` };
for (let i = 0; i < 2; i++) {
  const g = await load({ name: "GET", url, headers: auth, connections: 50, warmupSeconds: 2, durationSeconds: 6, measured: bench });
  console.log("GET", g.requestsPerSecond, "server µs", g.serverCpuUs, "db µs", g.databaseCpuUs, "load", g.loadAverage);
  const p = await load({ name: "PUT", url: `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/w`, method: "PUT", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ value: VALUE_1K }), connections: 50, warmupSeconds: 2, durationSeconds: 6, measured: bench });
  console.log("PUT", p.requestsPerSecond, "server µs", p.serverCpuUs, "db µs", p.databaseCpuUs, "load", p.loadAverage);
}
await bench.close();
