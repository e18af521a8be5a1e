/**
 * Checks the `X-Client-Share` header against the version being read, before any provider is called (no
 * provider quota is spent on bad input): missing, malformed, or belonging to another secret or version.
 * Whether a well-formed share of the right version is the *right* share is decided later, by the DEK
 * commitment (`client_share_invalid`).
 */
import { clientShareTag, CryptoError, decodeClientShare, equalBytes, SCHEME_SHAMIR, SCHEME_XOR, wipe, type ClientShare } from "@shardvault/crypto";
import type { CustodyModeName } from "@shardvault/api";
import { clientShareTagContext, type VersionRef } from "./contexts.js";
import { badRequest } from "../errors.js";
import { CUSTODY_MODES, type CustodyMode } from "./custody-modes.js";

/** The client-custody modes whose client share has this share's scheme and index (the client is the last holder). */
function modesShaped(share: ClientShare): CustodyModeName[] {
  return (Object.entries(CUSTODY_MODES) as Array<[CustodyModeName, (typeof CUSTODY_MODES)[CustodyModeName]]>)
    .filter(([, mode]) => mode.clientHoldsShare && share.scheme === (mode.scheme === "xor" ? SCHEME_XOR : SCHEME_SHAMIR) && share.index === mode.serverShares + 1)
    .map(([name]) => name);
}

export async function checkClientShare(header: string | undefined, mode: CustodyMode, ref: VersionRef, lastVersion: number): Promise<ClientShare> {
  if (header === undefined || header.trim() === "") {
    throw badRequest("client_share_required", "this vault uses client custody: send the secret's client_share in the X-Client-Share header");
  }
  let share: ClientShare;
  try {
    share = await decodeClientShare(header.trim());
  } catch (error) {
    if (error instanceof CryptoError) throw badRequest("client_share_malformed", `the X-Client-Share header is malformed: ${error.message}`);
    throw error;
  }
  const shapedAs = modesShaped(share);
  const ownShape = shapedAs.includes(mode.name);
  if (shapedAs.length === 0) {
    wipe(share.share);
    throw badRequest("client_share_malformed", "the X-Client-Share header is no custody mode's client share (scheme and index)");
  }
  if (!equalBytes(share.tag, await clientShareTag(clientShareTagContext(ref)))) {
    wipe(share.share);
    // The tag is public: comparing it with the tags of this path's other versions names the right one.
    for (let version = lastVersion; ownShape && version >= 1; version--) {
      if (version !== ref.version && equalBytes(share.tag, await clientShareTag(clientShareTagContext({ ...ref, version })))) {
        throw badRequest("client_share_mismatch", `this client share belongs to version ${version} of ${ref.path}, not version ${ref.version}`);
      }
    }
    // Well-formed shares of the other client mode exist only in other vaults: another secret's, not malformed.
    const otherMode = ownShape ? "" : ` (a ${shapedAs.join(" or ")} share; this vault uses ${mode.name})`;
    throw badRequest("client_share_mismatch", `this client share belongs to another secret${otherMode}`);
  }
  if (!ownShape) {
    // This version's tag on another mode's scheme and index: no such share was ever issued for this version.
    wipe(share.share);
    throw badRequest("client_share_invalid", `this is not the client share of version ${ref.version} of ${ref.path}: it is shaped as a ${shapedAs.join(" or ")} share`);
  }
  return share;
}
