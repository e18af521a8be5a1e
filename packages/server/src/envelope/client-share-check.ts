/**
 * Checks the `X-Client-Share` header against the version being read, before any provider is called (no
 * provider quota is spent on bad input): missing, malformed, or belonging to another secret or version.
 * Whether a well-formed share of the right version is the *right* share is decided later, by the DEK
 * commitment (`client_share_invalid`).
 */
import { clientShareTag, CryptoError, decodeClientShare, equalBytes, SCHEME_SHAMIR, SCHEME_XOR, wipe, type ClientShare } from "@shardvault/crypto";
import { clientShareTagContext, type VersionRef } from "./contexts.js";
import { badRequest } from "../errors.js";
import type { CustodyMode } from "./custody-modes.js";

export function checkClientShare(header: string | undefined, mode: CustodyMode, holders: readonly string[], ref: VersionRef, lastVersion: number): ClientShare {
  if (header === undefined || header.trim() === "") {
    throw badRequest("client_share_required", "this vault uses client custody: send the secret's client_share in the X-Client-Share header");
  }
  let share: ClientShare;
  try {
    share = decodeClientShare(header.trim());
  } catch (error) {
    if (error instanceof CryptoError) throw badRequest("client_share_malformed", `the X-Client-Share header is malformed: ${error.message}`);
    throw error;
  }
  const scheme = mode.scheme === "xor" ? SCHEME_XOR : SCHEME_SHAMIR;
  if (share.scheme !== scheme || share.index !== holders.length) {
    wipe(share.share);
    throw badRequest("client_share_malformed", `the client share is not a ${mode.name} client share`);
  }
  if (!equalBytes(share.tag, clientShareTag(clientShareTagContext(ref)))) {
    wipe(share.share);
    // The tag is public: comparing it with the tags of this path's other versions names the right one.
    for (let version = lastVersion; version >= 1; version--) {
      if (version !== ref.version && equalBytes(share.tag, clientShareTag(clientShareTagContext({ ...ref, version })))) {
        throw badRequest("client_share_mismatch", `this client share belongs to version ${version} of ${ref.path}, not version ${ref.version}`);
      }
    }
    throw badRequest("client_share_mismatch", "this client share belongs to another secret");
  }
  return share;
}
