/**
 * CMEK, the client-side layer: values encrypted with the client's own 32-byte key before they reach the
 * server, in the format 1claw's CMEK helpers use too:
 *   standard base64 of  0x01 | IV (12 bytes) | ciphertext | tag (16 bytes)   — AES-256-GCM, no associated data.
 * WebCrypto only, so it runs in browsers and on Node 20. The key never leaves the client (except to rotate).
 * Losing the key loses the data.
 */
const VERSION = 0x01;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

const subtle = () => globalThis.crypto.subtle;

export type CmekErrorCode = "cmek_key_invalid" | "cmek_blob_malformed" | "cmek_key_mismatch" | "cmek_value_not_utf8";

/** What the CMEK helpers throw; client methods resolve with it as an error of type `cmek_error` instead. */
export class CmekError extends Error {
  constructor(
    readonly code: CmekErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "CmekError";
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) throw new CmekError("cmek_key_invalid", `a CMEK key is ${KEY_LENGTH} bytes`);
}

function importKey(key: Uint8Array, usage: "encrypt" | "decrypt"): Promise<CryptoKey> {
  checkKey(key);
  return subtle().importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "AES-GCM" }, false, [usage]);
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64(bytes) === text ? bytes : undefined;
}

/** A fresh random 32-byte key. Keep it safe: nobody can recover data encrypted under a lost key. */
export function generateCmekKey(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(KEY_LENGTH));
}

/** The key's fingerprint as the server knows it: SHA-256 in lowercase hex. */
export async function cmekFingerprint(key: Uint8Array): Promise<string> {
  checkKey(key);
  const digest = new Uint8Array(await subtle().digest("SHA-256", key as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Encrypts a value (text as UTF-8) into the CMEK blob the server stores. */
export async function cmekEncrypt(plaintext: string | Uint8Array, key: Uint8Array): Promise<string> {
  const data = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const sealed = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv, tagLength: TAG_LENGTH * 8 }, await importKey(key, "encrypt"), data as Uint8Array<ArrayBuffer>));
  const blob = new Uint8Array(1 + IV_LENGTH + sealed.length);
  blob[0] = VERSION;
  blob.set(iv, 1);
  blob.set(sealed, 1 + IV_LENGTH);
  return toBase64(blob);
}

/** Decrypts a CMEK blob to its bytes; throws a `CmekError` on a malformed blob or the wrong key. */
export async function cmekDecryptBytes(blob: string, key: Uint8Array): Promise<Uint8Array> {
  const bytes = typeof blob === "string" ? fromBase64(blob) : undefined;
  if (!bytes || bytes.length < 1 + IV_LENGTH + TAG_LENGTH || bytes[0] !== VERSION) throw new CmekError("cmek_blob_malformed", "not a CMEK blob");
  const cryptoKey = await importKey(key, "decrypt");
  try {
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: bytes.slice(1, 1 + IV_LENGTH), tagLength: TAG_LENGTH * 8 },
      cryptoKey,
      bytes.slice(1 + IV_LENGTH),
    );
    return new Uint8Array(plain);
  } catch {
    throw new CmekError("cmek_key_mismatch", "the CMEK blob does not decrypt with this key");
  }
}

/** Decrypts a CMEK blob to text (UTF-8); a plaintext that is not UTF-8 is a `CmekError` too. */
export async function cmekDecrypt(blob: string, key: Uint8Array): Promise<string> {
  const bytes = await cmekDecryptBytes(blob, key);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new CmekError("cmek_value_not_utf8", "the decrypted CMEK value is not UTF-8 text (read it with cmekDecryptBytes)");
  }
}
