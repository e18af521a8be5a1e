/**
 * Data keys (DEKs). A DEK is never itself an AES or HMAC key: HKDF-SHA256 derives from it a value key (seals
 * the secret's value) and a commitment key (commits to the DEK), under distinct labels.
 *
 * The commitment is HMAC-SHA256(commitment key, canonical context). Stored beside the version and checked
 * before the value is opened, it tells a wrong DEK (e.g. a wrong client share) apart from a tampered
 * ciphertext, and it closes AES-GCM's key-commitment gap: one ciphertext cannot be made to open under two
 * different DEKs that both pass the check.
 *
 * This is the Node, synchronous form the server uses; `web-crypto.ts` derives the same keys through WebCrypto.
 */
import { createHmac, hkdfSync } from "node:crypto";
import { assertBytes, equalBytes, wipe } from "./bytes.js";
import { COMMITMENT_KEY_LABEL, DEK_LENGTH, VALUE_KEY_LABEL } from "./dek-common.js";

const SALT = new Uint8Array(0);

function derive(dek: Uint8Array, label: Uint8Array): Uint8Array {
  assertBytes("dek", dek, DEK_LENGTH);
  return new Uint8Array(hkdfSync("sha256", dek, SALT, label, 32));
}

/** The AES-256 key that seals the value. The caller wipes it when done. */
export function deriveValueKey(dek: Uint8Array): Uint8Array {
  return derive(dek, VALUE_KEY_LABEL);
}

/** HMAC-SHA256 under the DEK's commitment key over the canonical context bytes. */
export function commitDek(dek: Uint8Array, context: Uint8Array): Buffer {
  assertBytes("context", context);
  const key = derive(dek, COMMITMENT_KEY_LABEL);
  try {
    return createHmac("sha256", key).update(context).digest();
  } finally {
    wipe(key);
  }
}

/** True when `commitment` is the commitment of `dek` to `context`; compared in constant time. */
export function verifyDekCommitment(dek: Uint8Array, context: Uint8Array, commitment: Uint8Array): boolean {
  assertBytes("commitment", commitment);
  return equalBytes(commitDek(dek, context), commitment);
}
