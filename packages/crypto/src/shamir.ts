/**
 * Shamir secret sharing over GF(2^8), byte by byte. A share is laid out `[y bytes…, x]` (x in the last byte),
 * as HashiCorp Vault and OpenBao lay theirs out, so shares interoperate with them.
 *
 * Note the argument order: `split(secret, threshold, shares)` — threshold first, the reverse of Vault's
 * `Split(secret, parts, threshold)` and of the `shamir-secret-sharing` package.
 */
import { assertBytes, randomFill, wipe } from "./bytes.js";
import { CryptoError } from "./errors.js";
import { gfInv, gfMul, gfMulWord } from "./gf256.js";

export const MAX_SHARES = 255;

function invalid(message: string): never {
  throw new CryptoError("shares_invalid", message);
}

function checkThreshold(threshold: number, count: number): void {
  if (!Number.isInteger(threshold) || threshold < 2) invalid(`threshold must be an integer ≥ 2, got ${threshold}`);
  if (!Number.isInteger(count) || count < threshold || count > MAX_SHARES) {
    invalid(`share count must be an integer in [threshold, ${MAX_SHARES}], got ${count}`);
  }
}

/** Splits `secret` into `shares` shares at x = 1…shares, any `threshold` of which recover it. */
export function split(secret: Uint8Array, threshold: number, shares: number): Uint8Array[] {
  checkThreshold(threshold, shares);
  const xs: number[] = [];
  for (let x = 1; x <= shares; x++) xs.push(x);
  return splitAt(secret, threshold, xs);
}

/** Splits `secret` with caller-chosen x-coordinates (MPC gives each provider slot a fixed x). */
export function splitAt(secret: Uint8Array, threshold: number, xs: readonly number[]): Uint8Array[] {
  assertBytes("secret", secret);
  if (secret.length === 0) invalid("secret must not be empty");
  checkThreshold(threshold, xs.length);
  const seen = new Set<number>();
  for (const x of xs) {
    // x = 0 would hand out the secret itself: the polynomial's value at 0 is the secret.
    if (!Number.isInteger(x) || x < 1 || x > 255) invalid(`x-coordinates must be integers in 1…255, got ${x}`);
    if (seen.has(x)) invalid(`x-coordinates must be distinct, ${x} repeats`);
    seen.add(x);
  }

  const length = secret.length;
  const degree = threshold - 1;
  // Coefficients a1…a(t-1) of every byte's polynomial, uniform over 0…255 in one fill. Rejecting zero
  // would bias the shares: a share would never equal the secret byte it hides. Laid out by degree
  // (a(k+1) of byte i at k·length + i) so that four neighbouring bytes' coefficients form one word.
  const coefficients = new Uint8Array(length * degree);
  randomFill(coefficients);
  const shares: Uint8Array[] = [];
  for (const x of xs) {
    const share = new Uint8Array(length + 1);
    share[length] = x;
    // Four bytes at a time through gfMulWord (x is public), then the last length % 4 one by one. Horner's
    // rule from the highest coefficient down to the secret byte (the constant term).
    let i = 0;
    for (; i + 4 <= length; i += 4) {
      let y = 0;
      for (let k = degree - 1; k >= 0; k--) {
        y = gfMulWord(y, x) ^ packWord(coefficients, k * length + i);
      }
      unpackWord(share, i, gfMulWord(y, x) ^ packWord(secret, i));
    }
    for (; i < length; i++) {
      let y = 0;
      for (let k = degree - 1; k >= 0; k--) y = gfMul(y, x) ^ coefficients[k * length + i]!;
      share[i] = gfMul(y, x) ^ secret[i]!;
    }
    shares.push(share);
  }
  wipe(coefficients);
  return shares;
}

export interface CombineOptions {
  /** Refuse fewer shares than this. */
  threshold?: number;
  /** The x-coordinates that may appear; any other is refused. */
  xs?: readonly number[];
}

/** Recovers the secret from shares laid out `[y…, x]` by Lagrange interpolation at x = 0. */
export function combine(shares: readonly Uint8Array[], opts: CombineOptions = {}): Uint8Array {
  if (!Array.isArray(shares) || shares.length === 0) invalid("no shares given");
  shares.forEach((share, i) => assertBytes(`shares[${i}]`, share));
  const shareLength = shares[0]!.length;
  if (shareLength < 2) invalid("a share must hold at least one byte and its x-coordinate");
  if (shares.some((share) => share.length !== shareLength)) invalid("shares have different lengths");
  if (opts.threshold !== undefined && shares.length < opts.threshold) {
    invalid(`${shares.length} share(s) given, the threshold is ${opts.threshold}`);
  }

  const xs = shares.map((share) => share[shareLength - 1]!);
  const allowed = opts.xs === undefined ? undefined : new Set(opts.xs);
  const seen = new Set<number>();
  for (const x of xs) {
    // A forged share at x = 0 would let its author choose the reconstructed secret outright.
    if (x === 0) invalid("a share has x = 0");
    if (seen.has(x)) invalid(`two shares have x = ${x}`);
    if (allowed !== undefined && !allowed.has(x)) invalid(`a share has x = ${x}, which is not expected here`);
    seen.add(x);
  }

  // Lagrange basis at 0 in characteristic 2: l_j = Π_{m≠j} x_m / (x_m − x_j) = Π x_m / (x_m ⊕ x_j).
  // They depend on the public x values only.
  const basis = xs.map((xj, j) => {
    let numerator = 1;
    let denominator = 1;
    xs.forEach((xm, m) => {
      if (m === j) return;
      numerator = gfMul(numerator, xm);
      denominator = gfMul(denominator, xm ^ xj);
    });
    return gfMul(numerator, gfInv(denominator));
  });

  // Four bytes at a time through gfMulWord, then the last length % 4 one by one.
  const length = shareLength - 1;
  const secret = new Uint8Array(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let value = 0;
    for (let j = 0; j < shares.length; j++) value ^= gfMulWord(packWord(shares[j]!, i), basis[j]!);
    unpackWord(secret, i, value);
  }
  for (; i < length; i++) {
    let value = 0;
    for (let j = 0; j < shares.length; j++) value ^= gfMul(shares[j]![i]!, basis[j]!);
    secret[i] = value;
  }
  return secret;
}

/** Bytes `at`…`at + 3` of `bytes` as one 32-bit word, little-endian (any fixed order works lane-wise). */
function packWord(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

function unpackWord(bytes: Uint8Array, at: number, word: number): void {
  bytes[at] = word;
  bytes[at + 1] = word >>> 8;
  bytes[at + 2] = word >>> 16;
  bytes[at + 3] = word >>> 24;
}
