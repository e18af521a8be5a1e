/**
 * The DEK's derived keys, its commitment and sealed values through WebCrypto, for clients (browsers, the SDK):
 * the same labels and format as the server's synchronous Node forms (`dek.ts`, `seal.ts`), which stay
 * synchronous because the server runs them on every request. Tests check the two against each other.
 */
import { assertBytes, equalBytes, randomFill, wipe } from "./bytes.js";
import { COMMITMENT_KEY_LABEL, DEK_LENGTH, VALUE_KEY_LABEL } from "./dek-common.js";
import { HEADER_LENGTH, IV_LENGTH, KEY_LENGTH, parseSealed, sealedAuthFailed, SEALED_VERSION } from "./sealed-format.js";

const subtle = () => globalThis.crypto.subtle;
type WebKey = Awaited<ReturnType<ReturnType<typeof subtle>["importKey"]>>;

/** HKDF-SHA256 (empty salt) from the DEK under `label`, as raw bytes. The caller wipes them. */
async function derive(dek: Uint8Array, label: Uint8Array): Promise<Uint8Array> {
  assertBytes("dek", dek, DEK_LENGTH);
  const base = await subtle().importKey("raw", dek, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle().deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: label }, base, 8 * KEY_LENGTH));
}

/** The value key as a non-extractable AES-GCM key. */
async function valueKey(dek: Uint8Array, usage: "encrypt" | "decrypt"): Promise<WebKey> {
  const raw = await derive(dek, VALUE_KEY_LABEL);
  try {
    return await subtle().importKey("raw", raw, "AES-GCM", false, [usage]);
  } finally {
    wipe(raw);
  }
}

/** HMAC-SHA256 under the DEK's commitment key over the canonical context bytes. */
export async function webCommitDek(dek: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  assertBytes("context", context);
  const raw = await derive(dek, COMMITMENT_KEY_LABEL);
  try {
    const key = await subtle().importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle().sign("HMAC", key, context));
  } finally {
    wipe(raw);
  }
}

/** True when `commitment` is the commitment of `dek` to `context`; compared in constant time. */
export async function webVerifyDekCommitment(dek: Uint8Array, context: Uint8Array, commitment: Uint8Array): Promise<boolean> {
  assertBytes("commitment", commitment);
  return equalBytes(await webCommitDek(dek, context), commitment);
}

/** Seals `plaintext` under the DEK's value key (format: `sealed-format.ts`). */
export async function webSealValue(dek: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  assertBytes("plaintext", plaintext);
  assertBytes("aad", aad);
  const iv = randomFill(new Uint8Array(IV_LENGTH));
  const body = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv, additionalData: aad }, await valueKey(dek, "encrypt"), plaintext));
  const out = new Uint8Array(HEADER_LENGTH + body.length);
  out[0] = SEALED_VERSION;
  out.set(iv, 1);
  out.set(body, HEADER_LENGTH); // WebCrypto appends the tag, as the format wants it
  return out;
}

/** Opens a sealed value under the DEK's value key. The caller wipes the plaintext. */
export async function webOpenValue(dek: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  assertBytes("sealed", sealed);
  assertBytes("aad", aad);
  const { iv } = parseSealed(sealed);
  try {
    return new Uint8Array(await subtle().decrypt({ name: "AES-GCM", iv, additionalData: aad }, await valueKey(dek, "decrypt"), sealed.subarray(HEADER_LENGTH)));
  } catch {
    throw sealedAuthFailed();
  }
}
