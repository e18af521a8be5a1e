/**
 * Moving a version's DEK shares to another layout of its vault, for the MPC key lifecycle:
 *
 * - re-wrapping keeps every share's value (so the DEK split, its commitment and any client share stay as they
 *   are) and only changes where and under which KEK each share is wrapped: KEK rotation, and a client-custody
 *   provider replacement, where the server cannot rebuild the DEK without the client;
 * - re-splitting rebuilds the DEK (as a read does) and splits it afresh with new random coefficients: shares
 *   from before and after do not combine. Proactive refresh, multi-HSM provider replacement, and a client's
 *   per-secret refresh (which hands back a new client share).
 *
 * Plaintext shares and DEKs live only in buffers wiped before returning.
 */
import { wipe } from "@shardvault/crypto";
import { CLIENT } from "./custody-modes.js";
import { keyBindingContext, type VersionRef } from "./contexts.js";
import { mpcProtection, protectDek, recoverDek, type MpcVault, type ProtectedDek, type RecoverOptions, type StoredShare } from "./mpc.js";
import { callProvider } from "./provider-calls.js";
import { unavailable } from "../errors.js";
import type { ProviderRegistry } from "../providers/registry.js";

/**
 * Re-wraps each stored share: unwrapped at its slot under the binding of the version's current layout
 * (`source`), wrapped under the target layout's binding at the same position, at the slot the target puts
 * there (a replaced slot's share goes to its replacement) and under that slot's KEK. Every share must be
 * reachable; the first failure is thrown (503 provider_unavailable, or an integrity error).
 */
export async function rewrapShares(source: MpcVault, target: MpcVault, providers: ProviderRegistry, ref: VersionRef, shares: readonly StoredShare[]): Promise<StoredShare[]> {
  const from = mpcProtection(source);
  const to = mpcProtection(target);
  return Promise.all(
    shares.map(async (share): Promise<StoredShare> => {
      const slot = target.holders[share.shareIndex - 1];
      const kekId = slot === undefined ? undefined : target.keks.get(slot);
      const reader = providers.get(share.provider);
      const writer = slot === undefined || slot === CLIENT ? undefined : providers.get(slot);
      if (!reader || !writer || !kekId) throw unavailable("provider_not_configured", `key provider slot ${reader ? slot : share.provider} is not configured`);
      const value = await callProvider(reader, () =>
        reader.unwrap(share.kekId, share.wrappedShare, keyBindingContext(ref, from, { shareIndex: share.shareIndex, slot: share.provider, kekId: share.kekId })),
        "stored_share_corrupt",
      );
      try {
        const wrappedShare = await callProvider(writer, () => writer.wrap(kekId, value, keyBindingContext(ref, to, { shareIndex: share.shareIndex, slot: slot!, kekId })));
        return { provider: slot!, shareIndex: share.shareIndex, kekId, wrappedShare };
      } finally {
        wipe(value);
      }
    }),
  );
}

/**
 * Rebuilds the DEK from the version's shares under `source` (as a read does: any quorum, the commitment
 * checked) and splits it afresh under `target`, with a new commitment (and a new client share, when the mode
 * has one: the caller's old share no longer combines with the new shares).
 */
export async function resplitDek(
  source: MpcVault,
  target: MpcVault,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: { commitment: Uint8Array; shares: StoredShare[] },
  opts: RecoverOptions,
): Promise<ProtectedDek> {
  const dek = await recoverDek(source, providers, ref, stored, opts);
  try {
    return await protectDek(target, providers, ref, dek);
  } finally {
    wipe(dek);
  }
}
