/**
 * The contexts that bind each piece of a secret version to what it belongs to. All are encoded canonically
 * by the crypto core, so editing any field in the database (vault, path, version, custody mode, threshold,
 * provider list, share index, slot, KEK id) makes the piece fail to open instead of relaxing a check.
 */
import { encodeContext } from "@shardvault/crypto";

export const ENVELOPE_FORMAT = 1;

export interface VersionRef {
  vaultId: string;
  path: string;
  version: number;
}

/** How a version's DEK is protected: `none` (one KEK) or an MPC custody mode, with its share holders. */
export interface Protection {
  custody: string;
  threshold: number;
  /** Share holders in share order; `client` for the client's share. */
  providers: readonly string[];
}

export interface KeyHolder {
  shareIndex: number;
  slot: string;
  kekId: string;
}

const versionFields = (ref: VersionRef) => ({
  format: ENVELOPE_FORMAT,
  vault_id: ref.vaultId,
  path: ref.path,
  version: ref.version,
});

/** Associated data of the sealed value. */
export const valueContext = (ref: VersionRef) => encodeContext({ purpose: "secret-value", ...versionFields(ref) });

/** What the DEK commitment commits to. */
export const commitmentContext = (ref: VersionRef, p: Protection) =>
  encodeContext({
    purpose: "dek-commitment",
    ...versionFields(ref),
    custody: p.custody,
    threshold: p.threshold,
    providers: p.providers,
  });

/** Associated data of a wrapped DEK or wrapped share. */
export const keyBindingContext = (ref: VersionRef, p: Protection, holder: KeyHolder) =>
  encodeContext({
    purpose: "dek-wrap",
    ...versionFields(ref),
    custody: p.custody,
    threshold: p.threshold,
    providers: p.providers,
    share_index: holder.shareIndex,
    slot: holder.slot,
    kek_id: holder.kekId,
  });

/** What a client share's public tag is computed over: the secret version it belongs to. */
export const clientShareTagContext = (ref: VersionRef) => encodeContext({ purpose: "client-share-tag", ...versionFields(ref) });
