/**
 * MPC envelope encryption: the version's DEK is split (XOR: DEK = server part ⊕ client part, each server slot
 * holding the server part; or Shamir 2-of-3 with each holder at a fixed x), each server-held share is wrapped
 * by its slot's KEK bound to the full context, and the client's share, if the mode has one, is handed back
 * once and never stored. A commitment to the DEK is stored and checked after reconstruction: it tells a wrong
 * client share from a good one, and catches a stored share that passed its provider's check but is wrong (an
 * Azure RSA share can be forged with the public key, so a DEK is never rebuilt from RSA-wrapped shares alone).
 */
import {
  clientShareTag,
  combine,
  commitDek,
  DEK_LENGTH,
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
  /**
   * The holders the DEK commitment binds, when they differ from `holders`: a client-custody provider
   * replacement moves shares without the DEK, so the commitment keeps binding the holders of the split.
   */
  commitmentHolders?: readonly string[];
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

/** What a version's DEK commitment binds: the holders its DEK was split for. */
export const commitmentProtection = (vault: MpcVault): Protection => ({ ...mpcProtection(vault), providers: vault.commitmentHolders ?? vault.holders });

/**
 * Splits a DEK into one share per holder, each `[y…, x]` for Shamir or the bare part for XOR, where every
 * server slot gets the same server part (one buffer: wiping it once wipes every slot's) and the client the other.
 */
function splitDek(vault: MpcVault, dek: Uint8Array): Uint8Array[] {
  if (vault.mode.scheme === "shamir") return splitAt(dek, vault.mode.threshold, vault.holders.map((_, i) => i + 1));
  const [serverPart, clientPart] = xorSplit(dek);
  return vault.holders.map((holder) => (holder === CLIENT ? clientPart : serverPart));
}

/**
 * Wraps each server holder's part (`parts` in holder order; the client's, if any, is not wrapped) at its slot,
 * in parallel, each bound to the full context. Every slot has to succeed, else nothing is stored.
 */
export async function wrapParts(vault: MpcVault, providers: ProviderRegistry, ref: VersionRef, parts: readonly Uint8Array[]): Promise<StoredShare[]> {
  const protection = mpcProtection(vault);
  const servers = vault.holders.filter((slot) => slot !== CLIENT);
  const wraps = await Promise.allSettled(
    servers.map((slot, i) => {
      const provider = providers.get(slot);
      const kekId = vault.keks.get(slot);
      if (!provider || !kekId) return Promise.reject(new ProviderError("misconfigured", slot, "slot not configured"));
      const holder = { shareIndex: i + 1, slot, kekId };
      return provider
        .wrap(kekId, parts[i]!, keyBindingContext(ref, protection, holder))
        .then((wrappedShare): StoredShare => ({ provider: slot, shareIndex: i + 1, kekId, wrappedShare }));
    }),
  );
  const failed = servers.filter((_, i) => wraps[i]!.status === "rejected");
  if (failed.length > 0) throw unavailable("provider_unavailable", `key provider ${failed.join(", ")} is unavailable`);
  return wraps.map((w) => (w as PromiseFulfilledResult<StoredShare>).value);
}

/** Splits a DEK under the vault's mode, wraps the server shares in parallel, encodes the client share. */
export async function protectDek(vault: MpcVault, providers: ProviderRegistry, ref: VersionRef, dek: Uint8Array): Promise<ProtectedDek> {
  const protection = mpcProtection(vault);
  const parts = splitDek(vault, dek);
  try {
    const shares = await wrapParts(vault, providers, ref, parts);
    const commitment = commitDek(dek, commitmentContext(ref, protection));
    if (!vault.mode.clientHoldsShare) return { commitment, shares };
    const clientIndex = vault.holders.length;
    const clientPart = parts[clientIndex - 1]!;
    const clientShare = await encodeClientShare({
      scheme: vault.mode.scheme === "xor" ? SCHEME_XOR : SCHEME_SHAMIR,
      index: clientIndex,
      // Shamir shares end in their x, which the codec carries as the index.
      share: vault.mode.scheme === "xor" ? clientPart : clientPart.subarray(0, clientPart.length - 1),
      tag: await clientShareTag(clientShareTagContext(ref)),
    });
    return { commitment, shares, clientShare };
  } finally {
    wipe(...parts);
  }
}

/**
 * Where each stored server share of a version can be unwrapped, checked (`checkedShare`), with each corrupt slot
 * reported once per read. A share row whose slot is not where the vault's provider list puts it, or a missing
 * row, is damaged stored data (500) when too few others remain, not an outage (503).
 */
function shareSources(vault: MpcVault, providers: ProviderRegistry, ref: VersionRef, stored: readonly StoredShare[], needed: number, opts: QuorumOptions) {
  const protection = mpcProtection(vault);
  const reported = new Set<string>();
  const reportCorrupt = (slot: string) => {
    if (reported.has(slot)) return;
    reported.add(slot);
    opts.onCorruptShare(slot);
  };
  const misplaced = stored.filter((share) => vault.holders[share.shareIndex - 1] !== share.provider).map((share) => share.provider);
  misplaced.forEach(reportCorrupt);
  const missing = vault.holders.filter((slot) => slot !== CLIENT && !stored.some((share) => share.provider === slot));
  const sources: ShareSource[] = stored.flatMap((share) => {
    const provider = providers.get(share.provider);
    if (!provider || misplaced.includes(share.provider)) return [];
    const aad = keyBindingContext(ref, protection, { shareIndex: share.shareIndex, slot: share.provider, kekId: share.kekId });
    return [{ slot: share.provider, fetch: async (signal: AbortSignal) => checkedShare(vault, share, await provider.unwrap(share.kekId, share.wrappedShare, aad, { signal })) }];
  });
  const damaged = [...misplaced, ...missing];
  if (sources.length < needed && damaged.length > 0) {
    throw new AppError(500, "stored_share_corrupt", `the stored share of provider slot ${damaged.join(", ")} is missing or misplaced`);
  }
  return { sources, reportCorrupt };
}

/** A vault whose mode gives the client no share has nothing a client could rebuild itself. */
export const noClientReconstruction = () =>
  badRequest("client_reconstruction_unavailable", "client-side reconstruction needs a client-custody vault: read or write this secret the ordinary way");

/** A server share as the client-side reconstruction wire carries it: its x (1: the XOR server part) and its 32 bytes. */
export interface ClientBoundShare {
  index: number;
  share: Uint8Array;
}

/**
 * The server shares a client needs beside its own to rebuild a version's DEK itself (client-side
 * reconstruction): as few as the mode needs with the client's share, fastest slots first, unwrapped and
 * checked. The server never combines them, and in no client-custody mode do that many server shares rebuild a
 * DEK without the client's, so what this hands out is useless without the client share the server never sees.
 * A stored share that unwraps but is wrong cannot be told here (no DEK to check): the client's commitment check
 * fails instead.
 */
export async function serverSharesForClient(
  vault: MpcVault,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: readonly StoredShare[],
  opts: QuorumOptions,
): Promise<ClientBoundShare[]> {
  const needed = serverSharesNeeded(vault.mode, true);
  if (!vault.mode.clientHoldsShare || needed === undefined || vault.mode.decrypts({ client: false, servers: needed })) throw noClientReconstruction();
  const { sources, reportCorrupt } = shareSources(vault, providers, ref, stored, needed, opts);
  const gathered = await gatherQuorum(sources, needed, { ...opts, onCorruptShare: reportCorrupt });
  return gathered.map(({ value }) =>
    vault.mode.scheme === "xor" ? { index: 1, share: value } : { index: value[DEK_LENGTH]!, share: value.subarray(0, DEK_LENGTH) },
  );
}

export interface RecoverOptions extends QuorumOptions {
  /** The client's decoded share, already checked against this version (client-custody modes). */
  clientShare?: ClientShare;
}

/**
 * Rebuilds a DEK from shares and checks the commitment. Returns undefined (nothing) when it fails. The shares
 * were checked by `checkedShare` (and the client's by the client-share check), so combining cannot throw.
 */
function tryCombine(vault: MpcVault, ref: VersionRef, commitment: Uint8Array, parts: Uint8Array[]): Uint8Array | undefined {
  // XOR: one server slot's copy of the server part, then the client's part (an XOR mode's quorum is one slot).
  const dek =
    vault.mode.scheme === "xor"
      ? xorCombine(parts[0]!, parts[1]!)
      : combine(parts, { threshold: vault.mode.threshold, xs: vault.holders.map((_, i) => i + 1) });
  if (dek.length === DEK_LENGTH && verifyDekCommitment(dek, commitmentContext(ref, commitmentProtection(vault)), commitment)) return dek;
  wipe(dek);
  return undefined;
}

/**
 * A server share as its slot must hold it: the DEK's length (XOR), or that plus its own x-coordinate, the
 * slot's bound share index (Shamir). Anything else that unwrapped under the right binding is a forged or
 * damaged share of that slot: wiped, and failed as an integrity error so the quorum reports the slot and asks
 * another one. Length and x are public: checking them leaks nothing.
 */
function checkedShare(vault: MpcVault, share: StoredShare, value: Uint8Array): Uint8Array {
  const expected = vault.mode.scheme === "xor" ? DEK_LENGTH : DEK_LENGTH + 1;
  if (value.length === expected && (vault.mode.scheme === "xor" || value[DEK_LENGTH] === share.shareIndex)) return value;
  wipe(value);
  throw new ProviderError("integrity", share.provider, "the unwrapped share has the wrong length or x-coordinate");
}

/** The client's share as combining takes it: the bare share (XOR), or `[y…, x]` in a fresh buffer (Shamir). */
function clientSharePart(vault: MpcVault, client: ClientShare): Uint8Array {
  if (vault.mode.scheme === "xor") return client.share;
  const part = new Uint8Array(client.share.length + 1);
  part.set(client.share);
  part[client.share.length] = client.index;
  return part;
}

function* subsets<T>(items: T[], size: number, start = 0): Generator<T[]> {
  if (size === 0) return yield [];
  for (let i = start; i <= items.length - size; i++) for (const rest of subsets(items, size - 1, i + 1)) yield [items[i]!, ...rest];
}

/**
 * Reconstructs a version's DEK: the client share (if any) plus as few server shares as the threshold needs,
 * fastest slots first. If the commitment fails, the remaining server shares are fetched and every
 * combination tried, so a bad stored share is found and named instead of blamed on the client.
 *
 * In a mode that gives the client a share, the DEK is never rebuilt without it, even where the provider slots
 * together hold enough shares (2of3_client_custody): only the client's share lets the server decrypt. And a
 * combination whose every share could have been forged with a public key (RSA-wrapped slots, no client share)
 * is never used: its commitment would prove nothing.
 */
export async function recoverDek(
  vault: MpcVault,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: { commitment: Uint8Array; shares: StoredShare[] },
  opts: RecoverOptions,
): Promise<Uint8Array> {
  const client = opts.clientShare;
  const needed = vault.mode.clientHoldsShare && !client ? undefined : serverSharesNeeded(vault.mode, client !== undefined);
  if (needed === undefined) throw badRequest("client_share_required", "this vault uses client custody: the client's share is needed");
  const { sources, reportCorrupt } = shareSources(vault, providers, ref, stored.shares, needed, opts);
  const first = await gatherQuorum(sources, needed, { latency: opts.latency, onCorruptShare: reportCorrupt });
  const all: GatheredShare[] = [...first];
  let clientPart: Uint8Array | undefined;
  try {
    clientPart = client && clientSharePart(vault, client);
    const partsOf = (shares: GatheredShare[]) => [...shares.map((s) => s.value), ...(clientPart ? [clientPart] : [])];
    const authenticated = (shares: GatheredShare[]) => client !== undefined || shares.some((s) => providers.get(s.slot)?.forgeableWraps === false);
    const dek = authenticated(first) ? tryCombine(vault, ref, stored.commitment, partsOf(first)) : undefined;
    if (dek) return dek;
    const rest = sources.filter((s) => !first.some((g) => g.slot === s.slot));
    const more = await Promise.allSettled(rest.map(async (s) => ({ slot: s.slot, value: await s.fetch(AbortSignal.timeout(10_000)) })));
    more.forEach((result, i) => {
      if (result.status === "fulfilled") all.push(result.value);
      else if (result.reason instanceof ProviderError && result.reason.kind === "integrity") reportCorrupt(rest[i]!.slot);
    });
    let tried = false;
    for (const subset of subsets(all, needed)) {
      if (!authenticated(subset)) continue;
      tried = true;
      const found = tryCombine(vault, ref, stored.commitment, partsOf(subset));
      if (found) {
        for (const bad of all.filter((s) => !subset.includes(s))) reportCorrupt(bad.slot);
        return found;
      }
    }
    // Only RSA-wrapped shares answered: whatever they rebuild, anyone with the public keys could have chosen.
    if (!tried) throw corrupt("unauthenticated_quorum");
    if (clientPart) throw badRequest("client_share_invalid", "the client share is not the right share for this secret version");
    throw corrupt("dek_commitment_mismatch");
  } finally {
    for (const share of all) wipe(share.value);
    if (clientPart !== client?.share) wipe(clientPart);
  }
}
