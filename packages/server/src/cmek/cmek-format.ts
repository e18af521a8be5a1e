/**
 * The CMEK value format the client encrypts with its own key (AES-256-GCM, no associated data):
 *   standard base64 of  0x01 | IV (12 bytes) | ciphertext | tag (16 bytes)
 * The server never sees the key (except while a rotation runs); it only checks the shape of written values.
 */
import { createHash } from "node:crypto";
import { wipe } from "@shardvault/crypto";
import { badRequest } from "../errors.js";

export const CMEK_VERSION = 0x01;
export const CMEK_MIN_BYTES = 1 + 12 + 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Checks that a written value is a CMEK blob; returns its bytes. */
export function checkCmekValue(value: string): Buffer {
  const bytes = BASE64.test(value) ? Buffer.from(value, "base64") : undefined;
  if (!bytes || bytes.toString("base64") !== value || bytes.length < CMEK_MIN_BYTES || bytes[0] !== CMEK_VERSION) {
    throw badRequest(
      "cmek_value_malformed",
      "this vault uses CMEK: the value must be the standard base64 of [0x01][12-byte IV][ciphertext][16-byte GCM tag], encrypted with the vault's key",
    );
  }
  return bytes;
}

export function checkFingerprint(fingerprint: unknown, field = "fingerprint"): string {
  if (typeof fingerprint !== "string" || !FINGERPRINT.test(fingerprint)) {
    throw badRequest("validation_error", `${field} must be 64 lowercase hex characters (SHA-256 of the 32-byte key)`);
  }
  return fingerprint;
}

/** The SHA-256 fingerprint of a 32-byte key, in lowercase hex. */
export function fingerprintOf(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex");
}

/**
 * A key from its rotation header: standard base64 of exactly 32 bytes, matching the expected fingerprint. Decoded
 * straight into a buffer of its own: `Buffer.from(text, "base64")` may land in Node's shared allocation pool,
 * where a copy of the key would outlive the wipe of the caller's buffer.
 */
export function keyFromHeader(header: string | undefined, name: string, fingerprint: string): Uint8Array {
  if (!header || !/^[A-Za-z0-9+/]{43}=$/.test(header)) throw badRequest("cmek_key_malformed", `${name} must be the standard base64 of a 32-byte key`);
  const key = Buffer.allocUnsafeSlow(32);
  key.write(header, "base64");
  if (fingerprintOf(key) !== fingerprint) {
    wipe(key);
    throw badRequest("cmek_key_mismatch", `${name} does not match its fingerprint`);
  }
  return key;
}
