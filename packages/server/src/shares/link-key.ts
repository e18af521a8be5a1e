/**
 * Link keys of client-custody shares. The value is sealed (AES-256-GCM, crypto format 1) under a fresh random
 * 32-byte key, with associated data naming the share, so a sealed value moved to another share's row does not
 * open. The key travels only in the link's fragment (`#k=`, base64url, 43 characters) and back in
 * `X-Share-Key`: the server keeps no copy, so the database and every provider together cannot open the value.
 */
import { randomBytes } from "node:crypto";
import { CryptoError, encodeContext, KEY_LENGTH, open, seal, wipe } from "@shardvault/crypto";
import { badRequest } from "../errors.js";

export const LINK_KEY_FORMAT = 1;

const ENCODED = /^[A-Za-z0-9_-]{43}$/;

const linkContext = (shareId: string) => encodeContext({ purpose: "share-link-value", format: LINK_KEY_FORMAT, share_id: shareId });

/** A fresh link key; the caller wipes it once the link is made. */
export const generateLinkKey = (): Buffer => randomBytes(KEY_LENGTH);

export const encodeLinkKey = (key: Uint8Array): string => Buffer.from(key).toString("base64url");

export function sealForLink(key: Uint8Array, shareId: string, value: Uint8Array): Buffer {
  return seal(key, value, linkContext(shareId));
}

/**
 * The value a link key opens. 400 `share_key_required` without one, `share_key_malformed` when it is not
 * a key's encoding, `share_key_invalid` when it is the wrong key.
 */
export function openWithLinkKey(encoded: string | undefined, shareId: string, sealed: Uint8Array): Buffer {
  if (encoded === undefined || encoded.trim() === "") {
    throw badRequest("share_key_required", "this share needs its link key in X-Share-Key (the k of the link's #k=… fragment)");
  }
  const text = encoded.trim();
  const key = ENCODED.test(text) ? Buffer.from(text, "base64url") : undefined;
  // Canonical only: the last character may not carry bits beyond the key's 256.
  if (!key || key.length !== KEY_LENGTH || key.toString("base64url") !== text) {
    wipe(key);
    throw badRequest("share_key_malformed", "X-Share-Key is not a link key (43 base64url characters)");
  }
  try {
    return open(key, sealed, linkContext(shareId));
  } catch (error) {
    if (error instanceof CryptoError) throw badRequest("share_key_invalid", "X-Share-Key is not this share's link key");
    throw error;
  } finally {
    wipe(key);
  }
}
