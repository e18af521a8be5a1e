/**
 * MPC envelope encryption: the version's DEK is split (XOR 2-of-2, or Shamir 2-of-3 with each holder at a
 * fixed x), each server-held share is wrapped by its slot's KEK bound to the full context, and the client's
 * share, if the mode has one, is handed back once and never stored. A commitment to the DEK is stored and
 * checked after reconstruction: it tells a wrong client share from a good one, and catches a stored share
 * that passed its provider's check but is wrong (an Azure RSA share can be forged with the public key).
 */
import {
  clientShareTag,
  combine,
  commitDek,
  encodeClientShare,
  SCHEME_SHAMIR,
  SCHEME_XOR,
  splitAt,
  verifyDekCommitment,
  wipe,
  xorCombine,
  xorSplit,
  type ClientShare,
} from "@shardvault/crypto";
import { AppError, badRequest, corrupt, unavailable } from "../errors.js";
import { CLIENT, serverSharesNeeded, type CustodyMode } from "./custody-modes.js";
import { gatherQuorum, type GatheredShare, type QuorumOptions, type ShareSource } from "./quorum.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { clientShareTagContext, commitmentContext, keyBindingContext, type Protection, type VersionRef } from "./contexts.js";
import { ProviderError } from "../providers/provider.js";

export interface MpcVault {
  mode: CustodyMode;
  /** Holders in share order, `client` last in client-custody modes. */
  holders: readonly string[];
  /** Each server slot's KEK for this vault. */
  keks: ReadonlyMap<string, string>;
}

export interface StoredShare {
  provider: string;
  shareIndex: number;
  kekId: string;
  wrappedShare: Uint8Array;
}

export interface ProtectedDek {
  commitment: Uint8Array;
  shares: StoredShare[];
  /** The encoded client share, returned once. */
  clientShare?: string;
}

export const mpcProtection = (vault: MpcVault): Protection => ({
  custody: vault.mode.name,
  threshold: vault.mode.threshold,
  providers: vault.holders,
});

/** Splits a DEK into one share per holder, each `[y…, x]` for Shamir or the bare share for XOR. */
function splitDek(vault: MpcVault, dek: Uint8Array): Uint8Array[] {
  if (vault.mode.scheme === "xor") return xorSplit(dek);
  return splitAt(dek, vault.mode.threshold, vault.holders.map((_, i) => i + 1));
}

/** Splits a DEK under the vault's mode, wraps the server shares in parallel, encodes the client share. */
export async function protectDek(vault: MpcVault, providers: ProviderRegistry, ref: VersionRef, dek: Uint8Array): Promise<ProtectedDek> {
  const protection = mpcProtection(vault);
  const parts = splitDek(vault, dek);
  try {
    const wraps = await Promise.allSettled(
      vault.holders.flatMap((slot, i) => {
        if (slot === CLIENT) return [];
        const provider = providers.get(slot);
        const kekId = vault.keks.get(slot);
        if (!provider || !kekId) return [Promise.reject(new ProviderError("misconfigured", slot, "slot not configured"))];
        const holder = { shareIndex: i + 1, slot, kekId };
        return [
          provider
            .wrap(kekId, parts[i]!, keyBindingContext(ref, protection, holder))
            .then((wrappedShare): StoredShare => ({ provider: slot, shareIndex: i + 1, kekId, wrappedShare })),
        ];
      }),
    );
    const failed = vault.holders.filter((slot) => slot !== CLIENT).filter((_, i) => wraps[i]!.status === "rejected");
    // Every slot that must hold a share has to succeed, else nothing is stored.
    if (failed.length > 0) throw unavailable("provider_unavailable", `key provider ${failed.join(", ")} is unavailable`);
    const shares = wraps.map((w) => (w as PromiseFulfilledResult<StoredShare>).value);
    const commitment = commitDek(dek, commitmentContext(ref, protection));
    if (!vault.mode.clientHoldsShare) return { commitment, shares };
    const clientIndex = vault.holders.length;
    const clientPart = parts[clientIndex - 1]!;
    const clientShare = encodeClientShare({
      scheme: vault.mode.scheme === "xor" ? SCHEME_XOR : SCHEME_SHAMIR,
      index: clientIndex,
      // Shamir shares end in their x, which the codec carries as the index.
      share: vault.mode.scheme === "xor" ? clientPart : clientPart.subarray(0, clientPart.length - 1),
      tag: clientShareTag(clientShareTagContext(ref)),
    });
    return { commitment, shares, clientShare };
  } finally {
    wipe(...parts);
  }
}

export interface RecoverOptions extends QuorumOptions {
  /** The client's decoded share, already checked against this version (client-custody modes). */
  clientShare?: ClientShare;
}

/** Rebuilds a DEK from shares and checks the commitment. Returns undefined (nothing) when it fails. */
function tryCombine(vault: MpcVault, ref: VersionRef, commitment: Uint8Array, parts: Uint8Array[]): Uint8Array | undefined {
  const dek =
    vault.mode.scheme === "xor"
      ? xorCombine(parts[0]!, parts[1]!)
      : combine(parts, { threshold: vault.mode.threshold, xs: vault.holders.map((_, i) => i + 1) });
  if (dek.length === 32 && verifyDekCommitment(dek, commitmentContext(ref, mpcProtection(vault)), commitment)) return dek;
  wipe(dek);
  return undefined;
}

function* subsets<T>(items: T[], size: number, start = 0): Generator<T[]> {
  if (size === 0) return yield [];
  for (let i = start; i <= items.length - size; i++) for (const rest of subsets(items, size - 1, i + 1)) yield [items[i]!, ...rest];
}

/**
 * Reconstructs a version's DEK: the client share (if any) plus as few server shares as the threshold needs,
 * fastest slots first. If the commitment fails, the remaining server shares are fetched and every
 * combination tried, so a bad stored share is found and named instead of blamed on the client.
 */
export async function recoverDek(
  vault: MpcVault,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: { commitment: Uint8Array; shares: StoredShare[] },
  opts: RecoverOptions,
): Promise<Uint8Array> {
  const protection = mpcProtection(vault);
  const client = opts.clientShare;
  const clientPart = client
    ? vault.mode.scheme === "xor"
      ? client.share
      : Uint8Array.from([...client.share, client.index])
    : undefined;
  const needed = serverSharesNeeded(vault.mode, clientPart !== undefined);
  if (needed === undefined) throw badRequest("client_share_required", "this vault uses client custody: the client's share is needed");
  // A share row whose slot is not where the vault's provider list puts it, or a missing row, is damaged
  // stored data (500), not an outage (503).
  const misplaced = stored.shares.filter((share) => vault.holders[share.shareIndex - 1] !== share.provider).map((share) => share.provider);
  misplaced.forEach((slot) => opts.onCorruptShare(slot));
  const missing = vault.holders.filter((slot) => slot !== CLIENT && !stored.shares.some((share) => share.provider === slot));
  const sources: ShareSource[] = stored.shares.flatMap((share) => {
    const provider = providers.get(share.provider);
    if (!provider || misplaced.includes(share.provider)) return [];
    const aad = keyBindingContext(ref, protection, { shareIndex: share.shareIndex, slot: share.provider, kekId: share.kekId });
    return [{ slot: share.provider, fetch: (signal: AbortSignal) => provider.unwrap(share.kekId, share.wrappedShare, aad, { signal }) }];
  });
  const damaged = [...misplaced, ...missing];
  if (sources.length < needed && damaged.length > 0) {
    throw new AppError(500, "stored_share_corrupt", `the stored share of provider slot ${damaged.join(", ")} is missing or misplaced`);
  }
  const first = await gatherQuorum(sources, needed, opts);
  const all: GatheredShare[] = [...first];
  try {
    const partsOf = (shares: GatheredShare[]) => [...shares.map((s) => s.value), ...(clientPart ? [clientPart] : [])];
    const dek = tryCombine(vault, ref, stored.commitment, partsOf(first));
    if (dek) return dek;
    const rest = sources.filter((s) => !first.some((g) => g.slot === s.slot));
    const more = await Promise.allSettled(rest.map(async (s) => ({ slot: s.slot, value: await s.fetch(AbortSignal.timeout(10_000)) })));
    for (const result of more) if (result.status === "fulfilled") all.push(result.value);
    for (const subset of subsets(all, needed)) {
      const found = tryCombine(vault, ref, stored.commitment, partsOf(subset));
      if (found) {
        for (const bad of all.filter((s) => !subset.includes(s))) opts.onCorruptShare(bad.slot);
        return found;
      }
    }
    if (clientPart) throw badRequest("client_share_invalid", "the client share is not the right share for this secret version");
    throw corrupt("dek_commitment_mismatch");
  } finally {
    for (const share of all) wipe(share.value);
    if (clientPart && clientPart !== client?.share) wipe(clientPart);
  }
}
