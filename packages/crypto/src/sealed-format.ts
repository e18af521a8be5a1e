/**
 * The sealed-value format, shared by the Node sealer (`seal.ts`) and the WebCrypto one (`web-crypto.ts`).
 *
 * Version 1:  0x01 | IV (12 bytes) | ciphertext | tag (16 bytes), AES-256-GCM with associated data.
 * The parser checks the version and the minimum length before slicing anything.
 */
import { CryptoError } from "./errors.js";

export const SEALED_VERSION = 0x01;
export const KEY_LENGTH = 32;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
export const HEADER_LENGTH = 1 + IV_LENGTH;
export const SEALED_OVERHEAD = HEADER_LENGTH + TAG_LENGTH;

export function parseSealed(sealed: Uint8Array): { iv: Uint8Array; body: Uint8Array; tag: Uint8Array } {
  if (sealed.length < SEALED_OVERHEAD) {
    throw new CryptoError("sealed_malformed", `sealed value is ${sealed.length} bytes, at least ${SEALED_OVERHEAD} expected`);
  }
  if (sealed[0] !== SEALED_VERSION) {
    throw new CryptoError("sealed_unknown_version", `sealed value has unknown format version ${sealed[0]}`);
  }
  const tagStart = sealed.length - TAG_LENGTH;
  return { iv: sealed.subarray(1, HEADER_LENGTH), body: sealed.subarray(HEADER_LENGTH, tagStart), tag: sealed.subarray(tagStart) };
}

// Deliberately generic: which of key, IV, ciphertext, tag or associated data was wrong is not told.
export const sealedAuthFailed = () => new CryptoError("sealed_auth_failed", "sealed value failed authentication");
