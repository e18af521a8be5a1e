/**
 * Plain envelope encryption of one secret version: a fresh DEK per version, the value sealed under a key
 * derived from it, the DEK wrapped by the vault's KEK at its provider, and a commitment to the DEK checked
 * before the value is opened. Plaintext keys live only in buffers wiped before returning.
 */
import { commitDek, generateDek, verifyDekCommitment, wipe } from "@shardvault/crypto";
import { corrupt } from "../errors.js";
import type { KeyProvider } from "../providers/provider.js";
import { commitmentContext, keyBindingContext, type Protection, type VersionRef } from "./contexts.js";
import { callProvider } from "./provider-calls.js";
import { sealValue } from "./value.js";

export interface PlainSealed {
  ciphertext: Uint8Array;
  commitment: Uint8Array;
  wrappedDek: Uint8Array;
}

export interface VaultKek {
  provider: KeyProvider;
  kekId: string;
}

export const plainProtection = (slot: string): Protection => ({ custody: "none", threshold: 1, providers: [slot] });

const binding = (kek: VaultKek, ref: VersionRef) =>
  keyBindingContext(ref, plainProtection(kek.provider.slot), { shareIndex: 0, slot: kek.provider.slot, kekId: kek.kekId });

export async function sealPlain(kek: VaultKek, ref: VersionRef, plaintext: Uint8Array): Promise<PlainSealed> {
  const dek = generateDek();
  try {
    const ciphertext = sealValue(dek, ref, plaintext);
    const commitment = commitDek(dek, commitmentContext(ref, plainProtection(kek.provider.slot)));
    const wrappedDek = await callProvider(kek.provider, () => kek.provider.wrap(kek.kekId, dek, binding(kek, ref)));
    return { ciphertext, commitment, wrappedDek };
  } finally {
    wipe(dek);
  }
}

/**
 * Unwraps a version's DEK and checks its commitment. The caller wipes the DEK. A DEK wrapped only with a public
 * key (RSA-OAEP) is refused unopened: whoever can write the database could have chosen it, and its commitment
 * and ciphertext with it. Only a stored row edited to name such a slot gets here: the default slot cannot be one.
 */
export async function unwrapPlainDek(kek: VaultKek, ref: VersionRef, stored: Omit<PlainSealed, "ciphertext">): Promise<Uint8Array> {
  if (kek.provider.forgeableWraps) throw corrupt("wrapped_dek_unauthenticated");
  const dek = await callProvider(kek.provider, () => kek.provider.unwrap(kek.kekId, stored.wrappedDek, binding(kek, ref)), "wrapped_dek_corrupt");
  if (dek.length !== 32 || !verifyDekCommitment(dek, commitmentContext(ref, plainProtection(kek.provider.slot)), stored.commitment)) {
    wipe(dek);
    throw corrupt("dek_commitment_mismatch");
  }
  return dek;
}
