/**
 * Byte helpers. Node-free (WebCrypto's `getRandomValues` is global in Node ≥ 19 and in browsers), so every
 * module the client entry (`client.ts`) reaches runs in a browser too.
 */
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
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** Fills `bytes` from the platform's CSPRNG, in place (so the caller can wipe it), and returns it. */
export function randomFill<T extends Uint8Array>(bytes: T): T {
  // getRandomValues fills at most 65,536 bytes per call.
  for (let at = 0; at < bytes.length; at += 65_536) globalThis.crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65_536, bytes.length)));
  return bytes;
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard, padded base64 (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/**
 * Strict standard base64: the standard alphabet, correct padding, and canonical (the unused bits of the last
 * character zero, so one byte string has exactly one encoding). Undefined for anything else.
 */
export function fromBase64(text: string): Uint8Array | undefined {
  if (typeof text !== "string" || !STANDARD_BASE64.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (toBase64(bytes) !== text) {
    wipe(bytes);
    return undefined;
  }
  return bytes;
}
