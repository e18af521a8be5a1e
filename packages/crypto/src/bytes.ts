import { timingSafeEqual } from "node:crypto";
import { CryptoError } from "./errors.js";

/** Throws unless `value` is a Uint8Array (of `length`, when given). Messages follow noble's style. */
export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError("invalid_argument", `"${name}" expected Uint8Array, got ${typeof value}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CryptoError("invalid_argument", `"${name}" expected Uint8Array of length ${length}, got ${value.length}`);
  }
}

/** Zeroes every buffer given. Strings cannot be wiped, which is why key material never becomes one. */
export function wipe(...buffers: Array<Uint8Array | undefined | null>): void {
  for (const buffer of buffers) buffer?.fill(0);
}

/** Compares two byte strings in time that depends only on their lengths (which are public here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
