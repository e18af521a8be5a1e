/**
 * Sealed values on Node: AES-256-GCM with a fresh random 96-bit IV and associated data, synchronously (the
 * server seals and opens on every request). The format is `sealed-format.ts`'s; `web-crypto.ts` speaks the
 * same format through WebCrypto for clients.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { assertBytes, randomFill } from "./bytes.js";
import { HEADER_LENGTH, KEY_LENGTH, parseSealed, sealedAuthFailed, SEALED_OVERHEAD, SEALED_VERSION, TAG_LENGTH } from "./sealed-format.js";

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  assertBytes("key", key, KEY_LENGTH);
  assertBytes("plaintext", plaintext);
  assertBytes("aad", aad);
  const out = Buffer.allocUnsafe(SEALED_OVERHEAD + plaintext.length);
  out[0] = SEALED_VERSION;
  const iv = out.subarray(1, HEADER_LENGTH);
  randomFill(iv);
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
  const { iv, body, tag } = parseSealed(sealed);
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad);
  const plaintext = decipher.update(body);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw sealedAuthFailed();
  }
  return plaintext;
}
