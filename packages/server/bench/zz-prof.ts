import { load, startBenchServer, VALUE_1K } from "./support.js";
const bench = await startBenchServer({}, new URL("./zz-prof-main.ts", import.meta.url).pathname);
const vault = await bench.call("POST", "/v1/vaults", { name: "p" });
await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
const url = `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`;
const r = await load({ name: "GET", url, headers: { authorization: `Bearer ${bench.token}` }, connections: 50, warmupSeconds: 3, durationSeconds: 10, measured: bench } as any);
console.log(r.requestsPerSecond ?? r);
await bench.close();
