/**
 * Moving a version's DEK shares to another layout of its vault, for the MPC key lifecycle:
 *
 * - re-wrapping keeps every share's value (so the DEK split, its commitment and any client share stay as they
 *   are) and only changes where and under which KEK each share is wrapped: KEK rotation, and a client-custody
 *   provider replacement, where the server cannot rebuild the DEK without the client (in strict client custody
 *   the replaced slot's copy of the server part comes from the other slot when the replaced one is lost);
 * - re-splitting rebuilds the DEK (as a read does) and splits it afresh with new random coefficients: shares
 *   from before and after do not combine. Proactive refresh, multi-HSM provider replacement, and a client's
 *   per-secret refresh (which hands back a new client share).
 *
 * Plaintext shares and DEKs live only in buffers wiped before returning.
 */
import { equalBytes, wipe } from "@shardvault/crypto";
import { CLIENT, slotShareReplicated } from "./custody-modes.js";
import { keyBindingContext, type VersionRef } from "./contexts.js";
import { mpcProtection, protectDek, recoverDek, type MpcVault, type ProtectedDek, type RecoverOptions, type StoredShare } from "./mpc.js";
import { callProvider } from "./provider-calls.js";
import { AppError, corrupt, unavailable } from "../errors.js";
import type { ProviderRegistry } from "../providers/registry.js";

/**
 * Re-wraps each stored share: unwrapped at its slot under the binding of the version's current layout
 * (`source`), wrapped under the target layout's binding at the same position, at the slot the target puts
 * there (a replaced slot's share goes to its replacement) and under that slot's KEK.
 *
 * Every share must be reachable (the first failure is thrown: 503 provider_unavailable, or an integrity
 * error), except where the mode replicates a slot's share at the other slots (XOR with two server slots:
 * each holds the server part): there a share whose slot does not answer is taken from a slot that does, so a
 * lost provider's share moves to its replacement without the client. The copies that answered must agree
 * (else one of them is damaged or forged, and copying it would spread it).
 */
export async function rewrapShares(source: MpcVault, target: MpcVault, providers: ProviderRegistry, ref: VersionRef, shares: readonly StoredShare[]): Promise<StoredShare[]> {
  const from = mpcProtection(source);
  const to = mpcProtection(target);
  const unwrapped = await Promise.allSettled(
    shares.map((share) => {
      const reader = providers.get(share.provider);
      if (!reader) return Promise.reject(unavailable("provider_not_configured", `key provider slot ${share.provider} is not configured`));
      const aad = keyBindingContext(ref, from, { shareIndex: share.shareIndex, slot: share.provider, kekId: share.kekId });
      return callProvider(reader, () => reader.unwrap(share.kekId, share.wrappedShare, aad), "stored_share_corrupt");
    }),
  );
  const answered = unwrapped.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  try {
    const values = slotShareReplicated(source.mode) ? replicated(unwrapped, answered) : unwrapped.map(valueOf);
    return await Promise.all(
      shares.map(async (share, i): Promise<StoredShare> => {
        const slot = target.holders[share.shareIndex - 1];
        const kekId = slot === undefined ? undefined : target.keks.get(slot);
        const writer = slot === undefined || slot === CLIENT ? undefined : providers.get(slot);
        if (slot === undefined || !writer || !kekId) throw unavailable("provider_not_configured", `key provider slot ${slot} is not configured`);
        const wrappedShare = await callProvider(writer, () => writer.wrap(kekId, values[i]!, keyBindingContext(ref, to, { shareIndex: share.shareIndex, slot, kekId })));
        return { provider: slot, shareIndex: share.shareIndex, kekId, wrappedShare };
      }),
    );
  } finally {
    wipe(...answered);
  }
}

const valueOf = (result: PromiseSettledResult<Uint8Array>): Uint8Array => {
  if (result.status === "rejected") throw result.reason;
  return result.value;
};

/**
 * The one value every copy of a replicated share holds, for each position. A slot that does not answer is what
 * the copies are for; a damaged copy (integrity) still fails the move, as it would fail a read's commitment.
 */
function replicated(unwrapped: ReadonlyArray<PromiseSettledResult<Uint8Array>>, answered: readonly Uint8Array[]): Uint8Array[] {
  const damaged = unwrapped.find((result): result is PromiseRejectedResult => result.status === "rejected" && result.reason instanceof AppError && result.reason.status === 500);
  if (damaged) throw damaged.reason;
  const [value, ...others] = answered;
  if (!value) return unwrapped.map(valueOf);
  if (others.some((other) => !equalBytes(other, value))) throw corrupt("stored_share_corrupt");
  return unwrapped.map(() => value);
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
