/**
 * Sealing and opening one secret version under plain envelope encryption: a fresh DEK per version, the value
 * sealed under a key derived from it, the DEK wrapped by the vault's KEK at its provider, and a commitment to
 * the DEK checked before the value is opened. Plaintext keys live only in buffers wiped before returning.
 */
import { commitDek, CryptoError, deriveValueKey, generateDek, open, seal, verifyDekCommitment, wipe } from "@shardvault/crypto";
import { corrupt } from "../errors.js";
import type { KeyProvider } from "../providers/provider.js";
import { callProvider } from "./provider-calls.js";
import { commitmentContext, keyBindingContext, valueContext, type Protection, type VersionRef } from "./contexts.js";

export interface SealedVersion {
  ciphertext: Uint8Array;
  commitment: Uint8Array;
  wrappedDek: Uint8Array;
}

export interface VaultKek {
  provider: KeyProvider;
  kekId: string;
}

const plainProtection = (slot: string): Protection => ({ custody: "none", threshold: 1, providers: [slot] });

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

export async function sealPlain(kek: VaultKek, ref: VersionRef, plaintext: Uint8Array): Promise<SealedVersion> {
  const protection = plainProtection(kek.provider.slot);
  const dek = generateDek();
  try {
    const ciphertext = sealValue(dek, ref, plaintext);
    const commitment = commitDek(dek, commitmentContext(ref, protection));
    const binding = keyBindingContext(ref, protection, { shareIndex: 0, slot: kek.provider.slot, kekId: kek.kekId });
    const wrappedDek = await callProvider(kek.provider, () => kek.provider.wrap(kek.kekId, dek, binding));
    return { ciphertext, commitment, wrappedDek };
  } finally {
    wipe(dek);
  }
}

export async function openPlain(kek: VaultKek, ref: VersionRef, stored: SealedVersion): Promise<Buffer> {
  const protection = plainProtection(kek.provider.slot);
  const binding = keyBindingContext(ref, protection, { shareIndex: 0, slot: kek.provider.slot, kekId: kek.kekId });
  const dek = await callProvider(kek.provider, () => kek.provider.unwrap(kek.kekId, stored.wrappedDek, binding), "wrapped_dek_corrupt");
  try {
    if (dek.length !== 32 || !verifyDekCommitment(dek, commitmentContext(ref, protection), stored.commitment)) {
      throw corrupt("dek_commitment_mismatch");
    }
    return openValue(dek, ref, stored.ciphertext);
  } finally {
    wipe(dek);
  }
}
