/**
 * How a vault protects its versions' DEKs — one KEK (plain) or MPC shares — and sealing and opening a
 * version under it. The secret service sees only this.
 */
import { generateDek, wipe, type ClientShare } from "@shardvault/crypto";
import type { Queryable } from "../db/database.js";
import { badRequest, corrupt, gone } from "../errors.js";
import { custodyMode } from "./custody-modes.js";
import type { QuorumOptions } from "./quorum.js";
import type { KeyProvider } from "../providers/provider.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { findMpcKeks, type VaultRow } from "../vaults/vault-queries.js";
import { commitmentContext, ENVELOPE_FORMAT, type VersionRef } from "./contexts.js";
import { commitmentProtection, noClientReconstruction, protectDek, recoverDek, serverSharesForClient, type ClientBoundShare, type MpcVault, type StoredShare } from "./mpc.js";
import { sealPlain, unwrapPlainDek, type VaultKek } from "./plain.js";
import { openValue, sealValue } from "./value.js";

/** An MPC vault's current layout: its mode, holders and per-slot KEKs, and the generation they make up. */
export interface MpcProtection {
  kind: "mpc";
  vault: MpcVault;
  generation: number;
}

export type VaultProtection = { kind: "plain"; kek: VaultKek } | MpcProtection;

/**
 * Where an MPC version's shares sit, as stored with the version: the layout generation they were made for,
 * the holders they are bound to, and the holders its DEK commitment binds when those differ.
 */
export interface VersionLayout {
  generation: number;
  holders: readonly string[];
  commitmentHolders: readonly string[] | null;
}

/** What is stored of a version's protection. */
export interface StoredVersion {
  ciphertext: Uint8Array;
  commitment: Uint8Array;
  /** Plain vaults: the DEK wrapped by the vault's KEK. */
  wrappedDek: Uint8Array | null;
  kekSlot: string | null;
  kekId: string | null;
  /** MPC vaults: the wrapped server shares, and where they sit. */
  shares: StoredShare[];
  layout?: VersionLayout;
}

/** A freshly sealed version: what is stored, and in client-custody vaults the client's share to hand back once. */
export interface SealedVersion extends StoredVersion {
  clientShare?: string;
}

/**
 * The vault's protection. Writes need each MPC slot's KEK (`"write"`; queried unless given as `mpcKeks`); reads
 * take the KEK of each share from its own row, so they skip that query.
 */
export async function vaultProtection(
  db: Queryable,
  providers: ProviderRegistry,
  vault: VaultRow,
  use: "read" | "write",
  mpcKeks?: ReadonlyMap<string, string>,
): Promise<VaultProtection> {
  if (vault.mpc_custody) {
    const keks = use === "write" ? (mpcKeks ?? (await findMpcKeks(db, vault.id))) : new Map<string, string>();
    return { kind: "mpc", vault: { mode: custodyMode(vault.mpc_custody), holders: vault.mpc_providers ?? [], keks }, generation: vault.mpc_generation };
  }
  return { kind: "plain", kek: { provider: configuredProvider(providers, vault.kek_slot), kekId: vault.kek_id } };
}

/**
 * The provider of a slot some stored key material names. A vault whose slot was removed from the configuration
 * cannot be served until it is back: 400 provider_not_configured, as when a request names an unknown slot.
 */
export function configuredProvider(providers: ProviderRegistry, slot: string): KeyProvider {
  const provider = providers.get(slot);
  if (!provider) throw badRequest("provider_not_configured", `key provider slot ${slot} is not configured on this deployment`);
  return provider;
}

/** True when the vault row (locked by the writer) still protects versions the way `p` does. */
export function sameProtection(p: VaultProtection, vault: VaultRow): boolean {
  if (p.kind === "plain") return vault.mpc_custody === null && vault.kek_id === p.kek.kekId;
  return (
    vault.mpc_custody === p.vault.mode.name &&
    vault.mpc_generation === p.generation &&
    JSON.stringify(vault.mpc_providers) === JSON.stringify(p.vault.holders)
  );
}

/**
 * The MPC vault a stored version is opened under. A version of the vault's current generation is read under
 * the vault's holders (so editing the vault's or the version's list fails the read); one a lifecycle job has
 * not reached yet, under the holders it records (its shares are still bound to them).
 */
export function versionVault(p: MpcProtection, layout: VersionLayout | undefined): MpcVault {
  if (!layout) return p.vault;
  const holders = layout.generation === p.generation ? p.vault.holders : layout.holders;
  return { ...p.vault, holders, ...(layout.commitmentHolders ? { commitmentHolders: layout.commitmentHolders } : {}) };
}

/** The layout a version sealed under `p` records. */
export const currentLayout = (p: MpcProtection): VersionLayout => ({ generation: p.generation, holders: p.vault.holders, commitmentHolders: null });

export async function sealVersion(p: VaultProtection, providers: ProviderRegistry, ref: VersionRef, plaintext: Uint8Array): Promise<SealedVersion> {
  if (p.kind === "plain") {
    const sealed = await sealPlain(p.kek, ref, plaintext);
    return { ...sealed, kekSlot: p.kek.provider.slot, kekId: p.kek.kekId, shares: [] };
  }
  const dek = generateDek();
  try {
    const ciphertext = sealValue(dek, ref, plaintext);
    const { commitment, shares, clientShare } = await protectDek(p.vault, providers, ref, dek);
    return { ciphertext, commitment, wrappedDek: null, kekSlot: null, kekId: null, shares, layout: currentLayout(p), ...(clientShare ? { clientShare } : {}) };
  } finally {
    wipe(dek);
  }
}

/** Recovers a version's DEK (commitment checked). The caller wipes it. */
export async function recoverVersionDek(
  p: VaultProtection,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: Omit<StoredVersion, "ciphertext">,
  opts: QuorumOptions & { clientShare?: ClientShare },
): Promise<Uint8Array> {
  if (p.kind === "plain") {
    if (!stored.wrappedDek || !stored.kekSlot || !stored.kekId) throw gone("secret_deleted", `version ${ref.version} of ${ref.path} was crypto-shredded`);
    return unwrapPlainDek({ provider: configuredProvider(providers, stored.kekSlot), kekId: stored.kekId }, ref, { commitment: stored.commitment, wrappedDek: stored.wrappedDek });
  }
  if (stored.shares.length === 0) throw corrupt("stored_share_corrupt");
  return recoverDek(versionVault(p, stored.layout), providers, ref, { commitment: stored.commitment, shares: stored.shares }, opts);
}

export async function openVersion(
  p: VaultProtection,
  providers: ProviderRegistry,
  ref: VersionRef,
  stored: StoredVersion,
  opts: QuorumOptions & { clientShare?: ClientShare },
): Promise<Buffer> {
  const dek = await recoverVersionDek(p, providers, ref, stored, opts);
  try {
    return openValue(dek, ref, stored.ciphertext);
  } finally {
    wipe(dek);
  }
}

/** What a client-side read hands the client: everything but its own share (see `@shardvault/crypto/client`). */
export interface SealedForClient {
  format: number;
  value: Uint8Array;
  commitment: Uint8Array;
  /** The canonical context the DEK commitment covers: it names the version, and the client checks it does. */
  context: Uint8Array;
  serverShares: ClientBoundShare[];
}

/** A version as a client-side read answers it; the server shares in it are the caller's to wipe. */
export async function sealedForClient(p: VaultProtection, providers: ProviderRegistry, ref: VersionRef, stored: StoredVersion, opts: QuorumOptions): Promise<SealedForClient> {
  if (p.kind !== "mpc" || !p.vault.mode.clientHoldsShare) throw noClientReconstruction();
  if (stored.shares.length === 0) throw corrupt("stored_share_corrupt");
  const vault = versionVault(p, stored.layout);
  return {
    format: ENVELOPE_FORMAT,
    value: stored.ciphertext,
    commitment: stored.commitment,
    context: commitmentContext(ref, commitmentProtection(vault)),
    serverShares: await serverSharesForClient(vault, providers, ref, stored.shares, opts),
  };
}
