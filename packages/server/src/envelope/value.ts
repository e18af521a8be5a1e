/** The sealed value of a version, under a key derived from its DEK (never the DEK itself). */
import { CryptoError, deriveValueKey, open, seal, wipe } from "@shardvault/crypto";
import { corrupt } from "../errors.js";
import { valueContext, type VersionRef } from "./contexts.js";

export function sealValue(dek: Uint8Array, ref: VersionRef, plaintext: Uint8Array): Uint8Array {
  const valueKey = deriveValueKey(dek);
  try {
    return seal(valueKey, plaintext, valueContext(ref));
  } finally {
    wipe(valueKey);
  }
}

/** Opens a sealed value with a DEK whose commitment was already verified. */
export function openValue(dek: Uint8Array, ref: VersionRef, ciphertext: Uint8Array): Buffer {
  const valueKey = deriveValueKey(dek);
  try {
    return open(valueKey, ciphertext, valueContext(ref));
  } catch (error) {
    if (error instanceof CryptoError) throw corrupt("ciphertext_corrupt");
    throw error;
  } finally {
    wipe(valueKey);
  }
}
