/**
 * What both engines share about DEKs (Node's `dek.ts` for the server, WebCrypto's `web-crypto.ts` for clients):
 * their size, how a fresh one is made, and the HKDF-SHA256 labels (empty salt) of the keys derived from one.
 */
import { randomFill } from "./bytes.js";

export const DEK_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
export const VALUE_KEY_LABEL = new TextEncoder().encode("shardvault/v1/value-key");
export const COMMITMENT_KEY_LABEL = new TextEncoder().encode("shardvault/v1/dek-commitment-key");

/** A fresh random DEK. The caller wipes it when done. */
export function generateDek(): Uint8Array {
  return randomFill(new Uint8Array(DEK_LENGTH));
}
