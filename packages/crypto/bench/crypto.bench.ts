/**
 * Throughput figures for the crypto core, each beside a plain baseline, measured in one process: a warm-up,
 * then ROUNDS rounds in which each side runs for ROUND_MS in turn (the order alternates between rounds, and
 * each round starts after a full garbage collection), and the median round. Prints figures and PASS/MISS
 * against the targets; asserts nothing.
 *
 *   npm run bench -w @shardvault/crypto
 */
import { createCipheriv, createDecipheriv, randomBytes, randomFillSync } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { combine, encodeContext, open, seal, split } from "../src/index.js";

// A full collection before every round, so that no side pays for garbage the other side (or the previous
// benchmark) left behind. `gc` is exposed at run time because the npm script starts plain `tsx`.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const ROUNDS = 5;
const ROUND_MS = 1000;
const WARMUP_MS = 1000;

// --- Reference Shamir: log/exp tables, same API, not tuned ------------------------------------------------
// Table lookups are indexed by secret bytes, so this is NOT constant time: it is only a speed yardstick.

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, value = 1; i < 255; i++) {
  EXP[i] = value;
  EXP[i + 255] = value;
  LOG[value] = i;
  // Multiply by the generator 0x03 = x + 1: value·x ⊕ value, reduced by 0x11b.
  value ^= (value << 1) ^ (value & 0x80 ? 0x11b : 0);
}

function tableMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

function tableDiv(a: number, b: number): number {
  return a === 0 ? 0 : EXP[LOG[a]! + 255 - LOG[b]!]!;
}

function referenceSplit(secret: Uint8Array, threshold: number, shares: number): Uint8Array[] {
  const length = secret.length;
  const coefficients = new Uint8Array(length * (threshold - 1));
  randomFillSync(coefficients);
  const out: Uint8Array[] = [];
  for (let x = 1; x <= shares; x++) {
    const share = new Uint8Array(length + 1);
    share[length] = x;
    for (let i = 0; i < length; i++) {
      let y = 0;
      for (let k = threshold - 2; k >= 0; k--) y = tableMul(y, x) ^ coefficients[i * (threshold - 1) + k]!;
      share[i] = tableMul(y, x) ^ secret[i]!;
    }
    out.push(share);
  }
  coefficients.fill(0);
  return out;
}

function referenceCombine(shares: readonly Uint8Array[]): Uint8Array {
  const length = shares[0]!.length - 1;
  const xs = shares.map((share) => share[length]!);
  const basis = xs.map((xj, j) => {
    let value = 1;
    xs.forEach((xm, m) => {
      if (m !== j) value = tableMul(value, tableDiv(xm, xm ^ xj));
    });
    return value;
  });
  const secret = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    let value = 0;
    for (let j = 0; j < shares.length; j++) value ^= tableMul(shares[j]![i]!, basis[j]!);
    secret[i] = value;
  }
  return secret;
}

// --- Measurement ---------------------------------------------------------------------------------------------

let sink = 0; // keeps results observable so no work is optimised away

/** Runs `op` for about `ms` milliseconds in batches and returns operations per second. */
function opsPerSecond(op: () => void, ms: number): number {
  collectGarbage();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 64; i++) op();
    count += 64;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (count * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Warm-up, then ROUNDS interleaved rounds; the median ops/s of each side. */
function compare(ours: () => void, baseline: () => void): { ours: number; baseline: number } {
  opsPerSecond(ours, WARMUP_MS);
  opsPerSecond(baseline, WARMUP_MS);
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      a.push(opsPerSecond(ours, ROUND_MS));
      b.push(opsPerSecond(baseline, ROUND_MS));
    } else {
      b.push(opsPerSecond(baseline, ROUND_MS));
      a.push(opsPerSecond(ours, ROUND_MS));
    }
  }
  return { ours: median(a), baseline: median(b) };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// --- Shamir 2-of-3 split + combine of a 32-byte DEK ----------------------------------------------------------

const dek = randomBytes(32);
const pairs = [
  [0, 1],
  [0, 2],
  [1, 2],
] as const;

// Both sides must be right before their speed means anything.
for (const [i, j] of pairs) {
  const ours = split(dek, 2, 3);
  const theirs = referenceSplit(dek, 2, 3);
  if (!sameBytes(combine([ours[i]!, ours[j]!]), dek) || !sameBytes(referenceCombine([theirs[i]!, theirs[j]!]), dek)) {
    throw new Error("a Shamir implementation does not round-trip");
  }
  // Cross-check: the reference recovers our shares and we recover the reference's.
  if (!sameBytes(referenceCombine([ours[i]!, ours[j]!]), dek) || !sameBytes(combine([theirs[i]!, theirs[j]!]), dek)) {
    throw new Error("the Shamir implementations disagree");
  }
}

let turn = 0;
const shamir = compare(
  () => {
    const shares = split(dek, 2, 3);
    const [i, j] = pairs[turn++ % 3]!;
    sink ^= combine([shares[i]!, shares[j]!])[0]!;
  },
  () => {
    const shares = referenceSplit(dek, 2, 3);
    const [i, j] = pairs[turn++ % 3]!;
    sink ^= referenceCombine([shares[i]!, shares[j]!])[0]!;
  },
);
const ratio = shamir.ours / shamir.baseline;

console.log(`Node ${process.version}, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per side after ${WARMUP_MS} ms warm-up, median round`);
console.log("");
console.log("Shamir 2-of-3 split + combine (2 shares) of a 32-byte DEK");
console.log(`  @shardvault/crypto (constant time)   ${fmt(shamir.ours)} ops/s   target ≥ 100,000 ops/s: ${verdict(shamir.ours >= 100_000)}`);
console.log(`  log/exp-table reference              ${fmt(shamir.baseline)} ops/s`);
console.log(`  ratio ours / reference               ${ratio.toFixed(2).padStart(10)}×       target ≥ 0.70×: ${verdict(ratio >= 0.7)}`);

// --- seal + open of 1 KiB vs raw AES-256-GCM ------------------------------------------------------------------

const key = randomBytes(32);
const value = randomBytes(1024);
const aad = encodeContext({ vault: "bench", path: "db/password", version: 1 });

function rawSealOpen(): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(value), cipher.final()]);
  const tag = cipher.getAuthTag();
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

if (!open(key, seal(key, value, aad), aad).equals(value) || !rawSealOpen().equals(value)) {
  throw new Error("an AES-GCM path does not round-trip");
}

const gcm = compare(
  () => {
    sink ^= open(key, seal(key, value, aad), aad)[0]!;
  },
  () => {
    sink ^= rawSealOpen()[0]!;
  },
);
const overhead = (gcm.baseline / gcm.ours - 1) * 100;

console.log("");
console.log("seal + open of a 1 KiB value (AES-256-GCM, same precomputed AAD)");
console.log(`  seal/open                            ${fmt(gcm.ours)} ops/s`);
console.log(`  raw createCipheriv/createDecipheriv  ${fmt(gcm.baseline)} ops/s`);
console.log(`  wrapper overhead                     ${overhead.toFixed(1).padStart(9)} %       target ≤ 15%: ${verdict(overhead <= 15)}`);
console.log("");
console.log(`(sink ${sink & 1})`);
