/**
 * `npm run bench:mpc`, two parts, both over HTTP on PostgreSQL with no cache of DEKs, shares or KEKs:
 *
 * 1. Local slots: secret GET requests/s for a plain vault and each custody mode, in one run.
 *    Target: multi-HSM ≥ 85% of plain.
 * 2. Cloud slots through their official SDKs against the local wire peers, with added latency gcp 20 ms,
 *    aws 50 ms, azure 300 ms (an RSA key: its wraps are made with the public key, its unwraps by the peer);
 *    500 requests at 10 connections. Targets: multi-HSM read p50 ≤ the second-fastest slot's latency + 15 ms
 *    (a read needs two shares, asked of the fastest slots), write p50 ≤ the second-slowest's + 15 ms (a write
 *    wraps at all three, but Azure's RSA wrap waits for no round trip).
 *
 * The load average is printed beside every figure.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../test/support/harness.js";
import { awsKmsSlotConfig, startAwsKmsPeer } from "../test/support/peers/aws-kms-peer.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer } from "../test/support/peers/azure-keyvault-peer.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "../test/support/peers/gcp-kms-peer.js";
import { load, loadAverage, printTable, startBenchServer, VALUE_1K, type BenchServer, type LoadResult } from "./support.js";

const MODES = ["2of2_client_custody", "2of3_multi_hsm", "2of3_client_custody"] as const;
/** The latency each cloud peer adds to every answer, in ms. */
const LATENCY_MS = { gcp: 20, aws: 50, azure: 300 };

/** A vault in `mode` (or plain) holding one 1 KiB secret; the headers a GET of it needs. */
async function vaultWithSecret(bench: BenchServer, mode?: string): Promise<{ url: string; headers: Record<string, string> }> {
  const vault = await bench.call("POST", "/v1/vaults", { name: `bench-${mode ?? "plain"}`, ...(mode ? { custody_mode: mode } : {}) });
  const written = await bench.call("PUT", `/v1/vaults/${vault.id}/secrets/bench/read`, { type: "api_key", value: VALUE_1K });
  return {
    url: `${bench.server.url}/v1/vaults/${vault.id}/secrets/bench/read`,
    headers: { authorization: `Bearer ${bench.token}`, ...(written.client_share ? { "x-client-share": written.client_share } : {}) },
  };
}

async function localSlots(): Promise<void> {
  const bench = await startBenchServer();
  try {
    const rows: LoadResult[] = [];
    for (const mode of [undefined, ...MODES]) {
      const target = await vaultWithSecret(bench, mode);
      rows.push(await load({ name: `GET ${mode ?? "plain"}`, ...target, connections: 50, warmupSeconds: 3, durationSeconds: 10 }));
    }
    printTable("Part 1 — local slots, PostgreSQL, 50 connections, secret GET (1 KiB)", rows);
    const ratio = rows[2]!.requestsPerSecond / rows[0]!.requestsPerSecond;
    console.log(`load average ${loadAverage().toFixed(2)}`);
    console.log(`\nmulti-HSM / plain: ${(ratio * 100).toFixed(1)}% (target ≥ 85%: ${ratio >= 0.85 ? "PASS" : "MISS"})`);
  } finally {
    await bench.close();
  }
}

async function cloudSlots(): Promise<void> {
  if (process.argv.includes("--local-only")) return;
  const [gcp, aws, azure] = await Promise.all([startGcpKmsPeer(), startAwsKmsPeer(), startAzureKeyVaultPeer()]);
  const slots = { gcp: gcpKmsSlotConfig(gcp), aws: awsKmsSlotConfig(aws), azure: azureKeyVaultSlotConfig(azure, { key_size: 2048 }) };
  const configFile = join(makeTempDir("sv-bench-config-"), "shardvault.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      default_provider: "gcp",
      deadline_ms: 3000,
      providers: Object.fromEntries(Object.entries(slots).map(([slot, c]) => [slot, { backend: { gcp: "gcp-kms", aws: "aws-kms", azure: "azure-keyvault" }[slot], ...c.fields }])),
    }),
  );
  const env = Object.assign({ SHARDVAULT_CONFIG: configFile }, ...Object.values(slots).map((c) => c.env));
  const bench = await startBenchServer(env);
  try {
    await Promise.all([gcp.fault({ latencyMs: LATENCY_MS.gcp }), aws.fault({ latencyMs: LATENCY_MS.aws }), azure.fault({ latencyMs: LATENCY_MS.azure })]);
    const read = await vaultWithSecret(bench, "2of3_multi_hsm");
    const vaultUrl = read.url.replace(/\/secrets\/bench\/read$/, "");
    const write = {
      url: `${vaultUrl}/secrets/bench/w`,
      uniquePaths: true,
      method: "PUT",
      headers: { authorization: `Bearer ${bench.token}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "api_key", value: VALUE_1K }),
    };
    const rows = [
      await load({ name: "GET multi-HSM, 1 connection", ...read, connections: 1, amount: 100 }),
      await load({ name: "GET multi-HSM, 10 connections", ...read, connections: 10, amount: 500 }),
      await load({ name: "PUT multi-HSM, 1 connection", ...write, connections: 1, amount: 100 }),
      await load({ name: "PUT multi-HSM, 10 connections", ...write, connections: 10, amount: 500 }),
    ];
    printTable(`Part 2 — peers at gcp ${LATENCY_MS.gcp} ms, aws ${LATENCY_MS.aws} ms, azure ${LATENCY_MS.azure} ms`, rows);
    const sorted = Object.values(LATENCY_MS).sort((a, b) => a - b);
    const [readTarget, writeTarget] = [sorted[1]! + 15, sorted.at(-2)! + 15];
    console.log("");
    for (const [row, target, what] of [
      [rows[0]!, readTarget, "second-fastest"],
      [rows[1]!, readTarget, "second-fastest"],
      [rows[2]!, writeTarget, "second-slowest"],
      [rows[3]!, writeTarget, "second-slowest"],
    ] as const) {
      console.log(`${row.name}: p50 ${row.p50} ms (target ≤ ${what} + 15 = ${target}: ${row.p50 <= target ? "PASS" : "MISS"})`);
    }
    console.log(`load average ${loadAverage().toFixed(2)}`);
  } finally {
    await bench.close();
    await Promise.all([gcp.stop(), aws.stop(), azure.stop()]);
  }
}

if (!process.argv.includes("--cloud-only")) await localSlots();
await cloudSlots();
