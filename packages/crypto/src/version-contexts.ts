/**
 * The contexts that bind a secret version's sealed value, its DEK commitment and its client share's tag to the
 * version they belong to. Here, not in the server, because a client that rebuilds a DEK itself (client-side
 * reconstruction) must compute exactly the same bytes. Editing any field in the database (vault, path,
 * version, custody mode, threshold, provider list) makes the piece fail to open instead of relaxing a check.
 */
import { encodeContext } from "./context.js";

export const ENVELOPE_FORMAT = 1;

export interface VersionRef {
  vaultId: string;
  path: string;
  version: number;
}

/** How a version's DEK is protected: an MPC custody mode, its threshold and its share holders. */
export interface Protection {
  custody: string;
  threshold: number;
  /** Share holders in share order; `client` for the client's share. */
  providers: readonly string[];
}

export const versionFields = (ref: VersionRef) => ({
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

/** What a client share's public tag is computed over: the secret version it belongs to. */
export const clientShareTagContext = (ref: VersionRef) => encodeContext({ purpose: "client-share-tag", ...versionFields(ref) });
