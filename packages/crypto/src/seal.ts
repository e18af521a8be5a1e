/**
 * Sealed values: AES-256-GCM with a fresh random 96-bit IV and associated data.
 *
 * Format, version 1:  0x01 | IV (12 bytes) | ciphertext | tag (16 bytes)
 * The parser checks the version and the minimum length before slicing anything.
 */
import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { assertBytes } from "./bytes.js";
import { CryptoError } from "./errors.js";

export const SEALED_VERSION = 0x01;
export const KEY_LENGTH = 32;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + IV_LENGTH;
export const SEALED_OVERHEAD = HEADER_LENGTH + TAG_LENGTH;

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  assertBytes("key", key, KEY_LENGTH);
  assertBytes("plaintext", plaintext);
  assertBytes("aad", aad);
  const out = Buffer.allocUnsafe(SEALED_OVERHEAD + plaintext.length);
  out[0] = SEALED_VERSION;
  const iv = out.subarray(1, HEADER_LENGTH);
  randomFillSync(iv);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  body.copy(out, HEADER_LENGTH);
  cipher.final(); // GCM emits nothing more here; it finalises the tag.
  cipher.getAuthTag().copy(out, HEADER_LENGTH + body.length);
  return out;
}

export function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  assertBytes("key", key, KEY_LENGTH);
  assertBytes("sealed", sealed);
  assertBytes("aad", aad);
  if (sealed.length < SEALED_OVERHEAD) {
    throw new CryptoError("sealed_malformed", `sealed value is ${sealed.length} bytes, at least ${SEALED_OVERHEAD} expected`);
  }
  if (sealed[0] !== SEALED_VERSION) {
    throw new CryptoError("sealed_unknown_version", `sealed value has unknown format version ${sealed[0]}`);
  }
  const iv = sealed.subarray(1, HEADER_LENGTH);
  const tagStart = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(tagStart));
  decipher.setAAD(aad);
  const plaintext = decipher.update(sealed.subarray(HEADER_LENGTH, tagStart));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    // Deliberately generic: which of key, IV, ciphertext, tag or associated data was wrong is not told.
    throw new CryptoError("sealed_auth_failed", "sealed value failed authentication");
  }
  return plaintext;
}
