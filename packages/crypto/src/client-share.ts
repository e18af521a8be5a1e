/**
 * The client share codec: the `client_share` string a user stores and sends back in `X-Client-Share`.
 *
 * Standard base64 (RFC 4648 §4, padded) of, version 1:
 *   offset  size  field
 *   0       1     format version (0x01)
 *   1       1     scheme: 0x01 XOR (DEK = server part ⊕ client part), 0x02 Shamir over GF(256)
 *   2       1     share index: the x-coordinate (Shamir), or for XOR the client's place in the holder list (2 in 2-of-2, 3 in 2of3_client_required)
 *   3       32    share bytes (the y values, or the XOR share)
 *   35      8     tag: the first 8 bytes of SHA-256 over the canonical context of the share's secret version
 *   43      4     check: the first 4 bytes of SHA-256 over bytes 0…42
 * 47 bytes, 64 base64 characters.
 *
 * The tag is derived from public context only, so it reveals nothing about the share and lets the server say
 * "this share belongs to another secret or version" before any provider is asked. The check makes a mistyped
 * or truncated share read as malformed rather than as another secret's share.
 *
 * Node-free: SHA-256 comes from WebCrypto (hence async), so the server, the SDK and the dashboard decode and
 * make client shares with this one module.
 */
import { assertBytes, equalBytes, fromBase64, toBase64, wipe } from "./bytes.js";
import { CryptoError } from "./errors.js";

export const CLIENT_SHARE_VERSION = 0x01;
export const SCHEME_XOR = 0x01;
export const SCHEME_SHAMIR = 0x02;
export type ClientShareScheme = typeof SCHEME_XOR | typeof SCHEME_SHAMIR;
export const CLIENT_SHARE_BYTES = 32;
export const CLIENT_SHARE_TAG_LENGTH = 8;
const CHECK_LENGTH = 4;
const ENCODED_LENGTH = 3 + CLIENT_SHARE_BYTES + CLIENT_SHARE_TAG_LENGTH + CHECK_LENGTH;

export interface ClientShare {
  scheme: ClientShareScheme;
  /** The x-coordinate for Shamir shares; for XOR, the client's place in the holder list. */
  index: number;
  /** The share's secret bytes. The caller wipes them when done. */
  share: Uint8Array;
  /** Public tag naming the secret version the share belongs to. */
  tag: Uint8Array;
}

/** The first `length` bytes of SHA-256 over `bytes`. */
async function sha256Prefix(bytes: Uint8Array, length: number): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes), 0, length);
}

/** The public tag of a secret version: the first 8 bytes of SHA-256 over its canonical context bytes. */
export async function clientShareTag(versionContext: Uint8Array): Promise<Uint8Array> {
  assertBytes("versionContext", versionContext);
  return sha256Prefix(versionContext, CLIENT_SHARE_TAG_LENGTH);
}

export async function encodeClientShare(share: ClientShare): Promise<string> {
  assertBytes("share", share.share, CLIENT_SHARE_BYTES);
  assertBytes("tag", share.tag, CLIENT_SHARE_TAG_LENGTH);
  if (share.scheme !== SCHEME_XOR && share.scheme !== SCHEME_SHAMIR) {
    throw new CryptoError("invalid_argument", `unknown client share scheme ${share.scheme}`);
  }
  if (!Number.isInteger(share.index) || share.index < 1 || share.index > 255) {
    throw new CryptoError("invalid_argument", `client share index must be in 1…255, got ${share.index}`);
  }
  const bytes = new Uint8Array(ENCODED_LENGTH);
  bytes[0] = CLIENT_SHARE_VERSION;
  bytes[1] = share.scheme;
  bytes[2] = share.index;
  bytes.set(share.share, 3);
  bytes.set(share.tag, 3 + CLIENT_SHARE_BYTES);
  bytes.set(await sha256Prefix(bytes.subarray(0, ENCODED_LENGTH - CHECK_LENGTH), CHECK_LENGTH), ENCODED_LENGTH - CHECK_LENGTH);
  // The one permitted string form of key material, made for the HTTP boundary.
  const encoded = toBase64(bytes);
  wipe(bytes);
  return encoded;
}

/** Decodes strictly: standard alphabet, correct padding, and the input must re-encode to itself. */
export async function decodeClientShare(encoded: string): Promise<ClientShare> {
  const bytes = fromBase64(encoded);
  if (!bytes) throw new CryptoError("client_share_bad_encoding", "client share is not standard base64 (RFC 4648, padded, canonical)");
  try {
    if (bytes.length <= CHECK_LENGTH + 3) {
      throw new CryptoError("client_share_wrong_length", `client share is ${bytes.length} bytes, ${ENCODED_LENGTH} expected`);
    }
    const body = bytes.subarray(0, bytes.length - CHECK_LENGTH);
    const check = await sha256Prefix(body, CHECK_LENGTH);
    if (!equalBytes(check, bytes.subarray(bytes.length - CHECK_LENGTH))) {
      throw new CryptoError("client_share_bad_check", "client share failed its check: it was mistyped or truncated");
    }
    if (bytes[0] !== CLIENT_SHARE_VERSION) {
      throw new CryptoError("client_share_unknown_version", `client share has unknown format version ${bytes[0]}`);
    }
    const scheme = bytes[1];
    if (scheme !== SCHEME_XOR && scheme !== SCHEME_SHAMIR) {
      throw new CryptoError("client_share_unknown_scheme", `client share has unknown scheme ${scheme}`);
    }
    if (bytes.length !== ENCODED_LENGTH) {
      throw new CryptoError("client_share_wrong_length", `client share is ${bytes.length} bytes, ${ENCODED_LENGTH} expected`);
    }
    const index = bytes[2]!;
    if (index === 0) throw new CryptoError("client_share_bad_index", "client share has index 0");
    return {
      scheme,
      index,
      share: new Uint8Array(bytes.subarray(3, 3 + CLIENT_SHARE_BYTES)),
      tag: new Uint8Array(bytes.subarray(3 + CLIENT_SHARE_BYTES, ENCODED_LENGTH - CHECK_LENGTH)),
    };
  } finally {
    wipe(bytes);
  }
}
