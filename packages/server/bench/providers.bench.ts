/**
 * Key-provider throughput: wrap+unwrap pairs of a 32-byte DEK under a realistic binding, per backend, for
 * about BENCH_SECONDS (3) each, one call at a time. Run from the repository root:
 *
 *   npx tsx packages/server/bench/providers.bench.ts
 *
 * Backends are entries of BENCHES; append one to measure another. An entry whose make() throws is listed as
 * skipped with its reason. The cloud backends run their official SDKs against the local wire peers of the
 * tests (loopback, no added latency): the figures are the SDK's and the protocol's own cost.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wipe } from "@shardvault/crypto";
import { keyBindingContext } from "../src/envelope/contexts.js";
import { consoleLogger } from "../src/log.js";
import { createLocalProvider } from "../src/providers/local.js";
import { pkcs11Backend } from "../src/providers/pkcs11.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { makeSoftHsm, softHsmSkipReason } from "../test/support/softhsm.js";
import type { Backend } from "../src/providers/backend.js";
import { awsKmsBackend } from "../src/providers/aws-kms.js";
import { azureKeyVaultBackend } from "../src/providers/azure-keyvault.js";
import { gcpKmsBackend } from "../src/providers/gcp-kms.js";
import { awsKmsSlotConfig, startAwsKmsPeer } from "../test/support/peers/aws-kms-peer.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer } from "../test/support/peers/azure-keyvault-peer.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "../test/support/peers/gcp-kms-peer.js";

export interface BenchEntry {
  name: string;
  make: () => Promise<{ provider: KeyProvider; cleanup: () => Promise<void> }>;
}

const quietLog = { ...consoleLogger, info: () => undefined };

export const BENCHES: BenchEntry[] = [
  {
    name: "local",
    make: async () => {
      const dir = mkdtempSync(join(tmpdir(), "sv-bench-local-"));
      return { provider: createLocalProvider("bench", join(dir, "bench.key")), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: "pkcs11 (SoftHSM2)",
    make: async () => {
      const skip = await softHsmSkipReason({});
      if (skip) throw new Error(skip);
      const hsm = makeSoftHsm({ label: "sv-bench" });
      try {
        const provider = await pkcs11Backend.create(
          "bench",
          { module: hsm.module, tokenLabel: hsm.label, pin: { env: "BENCH_HSM_PIN" } },
          { env: { BENCH_HSM_PIN: hsm.pin }, log: quietLog, configDir: process.cwd() },
        );
        return {
          provider,
          cleanup: async () => {
            await provider.close();
            await hsm.cleanup();
          },
        };
      } catch (error) {
        await hsm.cleanup();
        throw error;
      }
    },
  },
  cloud("aws-kms (SDK → loopback peer)", awsKmsBackend, startAwsKmsPeer, (peer) => awsKmsSlotConfig(peer)),
  cloud("gcp-kms (SDK → loopback peer, REST)", gcpKmsBackend, startGcpKmsPeer, (peer) => gcpKmsSlotConfig(peer)),
  cloud("azure-keyvault RSA-3072 (SDK → peer)", azureKeyVaultBackend, startAzureKeyVaultPeer, (peer) => azureKeyVaultSlotConfig(peer)),
  cloud("azure-keyvault oct-HSM A256KW (SDK → peer)", azureKeyVaultBackend, startAzureKeyVaultPeer, (peer) => azureKeyVaultSlotConfig(peer, { key_type: "oct-HSM" })),
];

/** A cloud backend through its SDK against a fresh local peer. */
function cloud<P extends { stop(): Promise<void> }, C>(
  name: string,
  backend: Backend<C>,
  start: () => Promise<P>,
  slotConfig: (peer: P) => { fields: Record<string, unknown>; env: Record<string, string> },
): BenchEntry {
  return {
    name,
    make: async () => {
      const peer = await start();
      const { fields, env } = slotConfig(peer);
      const ctx = { env, log: quietLog, configDir: process.cwd() };
      const provider = await backend.create("bench", backend.parse("bench", fields, ctx), ctx);
      return {
        provider,
        cleanup: async () => {
          await provider.close();
          await peer.stop();
        },
      };
    },
  };
}

interface Result {
  name: string;
  pairsPerSecond?: number;
  p50Us?: number;
  skipped?: string;
}

async function measure(entry: BenchEntry, seconds: number): Promise<Result> {
  let made: Awaited<ReturnType<BenchEntry["make"]>>;
  try {
    made = await entry.make();
  } catch (error) {
    return { name: entry.name, skipped: (error as Error).message };
  }
  const { provider } = made;
  try {
    const vaultId = randomUUID();
    const kekId = await provider.createKek(vaultId);
    // What a 2-of-3 share wrap binds in the server.
    const aad = keyBindingContext(
      { vaultId, path: "payments/stripe/live-secret-key", version: 7 },
      { custody: "2of3_multi_hsm", threshold: 2, providers: ["gcp", "aws", "azure"] },
      { shareIndex: 1, slot: provider.slot, kekId },
    );
    const input = randomBytes(32);
    const pair = async () => {
      const wrapped = await provider.wrap(kekId, input, aad);
      const output = await provider.unwrap(kekId, wrapped, aad);
      wipe(output);
    };
    for (let i = 0; i < 200; i++) await pair(); // warm-up
    const latencies: number[] = [];
    const started = process.hrtime.bigint();
    const until = started + BigInt(Math.round(seconds * 1e9));
    let now = started;
    while (now < until) {
      const t0 = now;
      await pair();
      now = process.hrtime.bigint();
      latencies.push(Number(now - t0) / 1000);
    }
    const elapsed = Number(now - started) / 1e9;
    latencies.sort((a, b) => a - b);
    return { name: entry.name, pairsPerSecond: latencies.length / elapsed, p50Us: latencies[Math.floor(latencies.length / 2)]! };
  } finally {
    await made.cleanup();
  }
}

function table(results: Result[]): string {
  const rows = [
    ["backend", "wrap+unwrap pairs/s", "p50 µs"],
    ...results.map((r) =>
      r.skipped !== undefined ? [r.name, `skipped: ${r.skipped}`, ""] : [r.name, Math.round(r.pairsPerSecond!).toLocaleString("en-US"), r.p50Us!.toFixed(1)],
    ),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.slice(1).map(line)].join("\n");
}

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const results: Result[] = [];
for (const entry of BENCHES) {
  process.stderr.write(`measuring ${entry.name} for ~${seconds} s…\n`);
  results.push(await measure(entry, seconds));
}
console.log(`32-byte inputs, binding AAD from envelope/contexts.ts, one call at a time, ~${seconds} s per backend (node ${process.version})\n`);
console.log(table(results));
