/**
 * The contexts that bind each piece of a secret version to what it belongs to: the value's, the commitment's and
 * the client share tag's come from the crypto core (clients compute them too), the wraps' are the server's.
 * All are encoded canonically by the crypto core, so editing any field in the database (vault, path, version,
 * custody mode, threshold, provider list, share index, slot, KEK id) makes the piece fail to open instead of
 * relaxing a check.
 */
import { encodeContext, versionFields, type Protection, type VersionRef } from "@shardvault/crypto";

export { clientShareTagContext, commitmentContext, ENVELOPE_FORMAT, valueContext, type Protection, type VersionRef } from "@shardvault/crypto";

export interface KeyHolder {
  shareIndex: number;
  slot: string;
  kekId: string;
}

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
