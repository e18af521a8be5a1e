/**
 * What the PKCS#11 backend talks to and is configured with: the slot's configuration, the part of pkcs11js it
 * uses, the PKCS#11 constants and return codes it acts on, and how errors may be described (never with data).
 */
import { realpathSync } from "node:fs";

export interface Pkcs11Config {
  /** The PKCS#11 module (shared library), resolved from the configuration file's folder. */
  module: string;
  tokenLabel: string;
  /** Where the PIN comes from: the name of an environment variable, or a file. Never the PIN itself. */
  pin: { env: string } | { file: string };
}

// The part of pkcs11js this provider uses. Declared here rather than imported, so that the build does not
// need pkcs11js to be installed (it is an optional dependency).

export type Handle = Buffer;

export interface Attribute {
  type: number;
  value?: number | boolean | string | Buffer;
}

export interface Mechanism {
  mechanism: number;
  parameter?: { type: number; iv: Buffer; ivBits: number; aad?: Buffer; tagBits: number };
}

export interface Pkcs11Api {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(tokenPresent: boolean): Handle[];
  C_GetTokenInfo(slot: Handle): { label: string; flags: number };
  C_OpenSession(slot: Handle, flags: number): Handle;
  C_CloseSession(session: Handle): void;
  C_GetSessionInfo(session: Handle): { state: number; flags: number };
  C_Login(session: Handle, userType: number, pin: string): void;
  C_Logout(session: Handle): void;
  C_GenerateKey(session: Handle, mechanism: Mechanism, template: Attribute[]): Handle;
  C_FindObjectsInit(session: Handle, template: Attribute[]): void;
  C_FindObjects(session: Handle, maxObjectCount: number): Handle[];
  C_FindObjectsFinal(session: Handle): void;
  C_EncryptInit(session: Handle, mechanism: Mechanism, key: Handle): void;
  C_Encrypt(session: Handle, inData: Buffer, outData: Buffer): Buffer;
  C_DecryptInit(session: Handle, mechanism: Mechanism, key: Handle): void;
  C_Decrypt(session: Handle, inData: Buffer, outData: Buffer): Buffer;
  C_SetAttributeValue(session: Handle, object: Handle, template: Attribute[]): void;
}

export interface Pkcs11Binding {
  PKCS11: new () => Pkcs11Api;
}

// PKCS#11 constants (values from the specification, as pkcs11js exports them).
export const CKF_RW_SESSION = 0x2;
export const CKF_SERIAL_SESSION = 0x4;
export const CKF_USER_PIN_INITIALIZED = 0x8;
export const CKF_TOKEN_INITIALIZED = 0x400;
export const CKF_USER_PIN_COUNT_LOW = 0x10000;
export const CKF_USER_PIN_FINAL_TRY = 0x20000;
export const CKF_USER_PIN_LOCKED = 0x40000;
export const CKU_USER = 1;
export const CKS_RW_USER_FUNCTIONS = 3;
export const CKO_SECRET_KEY = 4;
export const CKK_AES = 0x1f;
export const CKM_AES_KEY_GEN = 0x1080;
export const CKM_AES_GCM = 0x1087;
/** pkcs11js's parameter type for CK_GCM_PARAMS with ulIvBits (PKCS#11 2.40 errata and later). */
export const CK_PARAMS_GCM = 25;
export const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  KEY_TYPE: 0x100,
  ID: 0x102,
  SENSITIVE: 0x103,
  ENCRYPT: 0x104,
  DECRYPT: 0x105,
  WRAP: 0x106,
  UNWRAP: 0x107,
  SIGN: 0x108,
  VERIFY: 0x10a,
  DERIVE: 0x10c,
  VALUE_LEN: 0x161,
  EXTRACTABLE: 0x162,
} as const;

/** Return codes that mean the session or the token went away, not that the input was wrong. */
export const SESSION_LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
]);
/** Login refusals about the PIN itself: reported once, never retried. */
export const PIN_REFUSED = new Set(["CKR_PIN_INCORRECT", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE", "CKR_PIN_EXPIRED", "CKR_PIN_LOCKED"]);
/** A key handle that no longer names an object: look the key up again. */
export const HANDLE_STALE = new Set(["CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID"]);
/** The key found cannot do AES-GCM decryption/encryption: the token holds something else under the label. */
export const KEY_UNFIT = new Set([
  "CKR_KEY_FUNCTION_NOT_PERMITTED",
  "CKR_KEY_TYPE_INCONSISTENT",
  "CKR_KEY_SIZE_RANGE",
  "CKR_MECHANISM_INVALID",
  "CKR_MECHANISM_PARAM_INVALID",
]);

export const KEK_ID = /^pkcs11:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Key handles kept per provider; past this the oldest are looked up again when next used. */
export const KEY_CACHE_LIMIT = 10_000;
/** PKCS#11 token labels are 32 bytes, blank-padded. */
export const LABEL_BYTES = 32;

/** The return-code name of a pkcs11js error (`CKR_…`), or undefined for anything else. */
export function returnCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : undefined;
  return message && /^CKR_[A-Z0-9_]+$/.test(message) ? message : undefined;
}

/** What an error may say about itself in a message: a return-code name or an error class, never data. */
export function describeError(error: unknown): string {
  return returnCode(error) ?? (error instanceof Error ? error.name : "unknown error");
}

export const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export const handleName = (handle: Handle) => (handle.length === 8 ? handle.readBigUInt64LE(0).toString() : handle.toString("hex"));

export function realModulePath(module: string): string {
  try {
    return realpathSync(module);
  } catch {
    return module;
  }
}
