/**
 * The PKCS#11 HSM provider: `{"backend": "pkcs11", "module": "/usr/lib/softhsm/libsofthsm2.so",
 * "token_label": "…", "pin_env": "VAR"}` (or `"pin_file": "…"` instead of `pin_env`).
 *
 * Each vault's KEK is an AES-256 key generated inside the token (non-extractable, sensitive, private, on the
 * token), labelled with its reference `pkcs11:<uuid>`. Wrapping is CKM_AES_GCM in the token with a random
 * 96-bit IV, a 128-bit tag and the binding as AAD; the stored form is `version (1) | IV (12) | ciphertext+tag`.
 *
 * `pkcs11js` is a native, optional dependency: it is imported only when a pkcs11 slot is configured, so a
 * machine without a C++ toolchain runs every other backend. Its calls are synchronous, so one R/W session per
 * provider, opened and logged in once at create(), serves every call without interleaving.
 *
 * The PIN is read from the named environment variable or file, handed to C_Login and to nothing else: it is
 * never logged or put in an error. A refused PIN is reported once and never retried (HSMs lock or wipe their
 * keys after repeated wrong PINs).
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { wipe } from "@shardvault/crypto";
import { ConfigError, fieldReader, type Backend, type BackendContext } from "./backend.js";
import { ProviderError, type CallOptions, type KeyProvider, type ProviderHealth } from "./provider.js";

export interface Pkcs11Config {
  /** The PKCS#11 module (shared library), resolved from the configuration file's folder. */
  module: string;
  tokenLabel: string;
  /** Where the PIN comes from: the name of an environment variable, or a file. Never the PIN itself. */
  pin: { env: string } | { file: string };
}

// ---------------------------------------------------------------------------------------------------------
// The part of pkcs11js this provider uses. Declared here rather than imported, so that the build does not
// need pkcs11js to be installed (it is an optional dependency).

type Handle = Buffer;

interface Attribute {
  type: number;
  value?: number | boolean | string | Buffer;
}

interface Mechanism {
  mechanism: number;
  parameter?: { type: number; iv: Buffer; ivBits: number; aad?: Buffer; tagBits: number };
}

interface Pkcs11Api {
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
const CKF_RW_SESSION = 0x2;
const CKF_SERIAL_SESSION = 0x4;
const CKF_USER_PIN_INITIALIZED = 0x8;
const CKF_TOKEN_INITIALIZED = 0x400;
const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;
const CKU_USER = 1;
const CKS_RW_USER_FUNCTIONS = 3;
const CKO_SECRET_KEY = 4;
const CKK_AES = 0x1f;
const CKM_AES_KEY_GEN = 0x1080;
const CKM_AES_GCM = 0x1087;
/** pkcs11js's parameter type for CK_GCM_PARAMS with ulIvBits (PKCS#11 2.40 errata and later). */
const CK_PARAMS_GCM = 25;
const CKA = {
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
const SESSION_LOST = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
]);
/** Login refusals about the PIN itself: reported once, never retried. */
const PIN_REFUSED = new Set(["CKR_PIN_INCORRECT", "CKR_PIN_INVALID", "CKR_PIN_LEN_RANGE", "CKR_PIN_EXPIRED", "CKR_PIN_LOCKED"]);
/** A key handle that no longer names an object: look the key up again. */
const HANDLE_STALE = new Set(["CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID"]);
/** The key found cannot do AES-GCM decryption/encryption: the token holds something else under the label. */
const KEY_UNFIT = new Set([
  "CKR_KEY_FUNCTION_NOT_PERMITTED",
  "CKR_KEY_TYPE_INCONSISTENT",
  "CKR_KEY_SIZE_RANGE",
  "CKR_MECHANISM_INVALID",
  "CKR_MECHANISM_PARAM_INVALID",
]);

const KEK_ID = /^pkcs11:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;
/** Key handles kept per provider; past this the oldest are looked up again when next used. */
const KEY_CACHE_LIMIT = 10_000;
/** PKCS#11 token labels are 32 bytes, blank-padded. */
const LABEL_BYTES = 32;

/** The return-code name of a pkcs11js error (`CKR_…`), or undefined for anything else. */
function returnCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : undefined;
  return message && /^CKR_[A-Z0-9_]+$/.test(message) ? message : undefined;
}

/** What an error may say about itself in a message: a return-code name or an error class, never data. */
function describeError(error: unknown): string {
  return returnCode(error) ?? (error instanceof Error ? error.name : "unknown error");
}

const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const handleName = (handle: Handle) => (handle.length === 8 ? handle.readBigUInt64LE(0).toString() : handle.toString("hex"));

function realModulePath(module: string): string {
  try {
    return realpathSync(module);
  } catch {
    return module;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading pkcs11js and the module

/**
 * Imports pkcs11js. The specifier is a variable so that TypeScript does not resolve it at build time; a
 * missing or unbuilt package is a configuration problem of this slot.
 */
export async function importPkcs11js(slot: string, specifier = "pkcs11js"): Promise<Pkcs11Binding> {
  let loaded: { default?: unknown } & Record<string, unknown>;
  try {
    loaded = (await import(specifier)) as typeof loaded;
  } catch (error) {
    throw new ProviderError(
      "misconfigured",
      slot,
      `the pkcs11 backend needs pkcs11js, which is not installed or not built (${(error as NodeJS.ErrnoException).code ?? describeError(error)}): ` +
        "run `npm ci` on a machine with a C++ toolchain (python3, make, g++) so that its native part builds",
    );
  }
  const binding = (loaded.default ?? loaded) as Partial<Pkcs11Binding>;
  if (typeof binding.PKCS11 !== "function") throw new ProviderError("misconfigured", slot, "pkcs11js loaded but exports no PKCS11 class");
  return binding as Pkcs11Binding;
}

/** A token logged in by this process: providers on the same token share the login (it is per application). */
interface TokenLogin {
  providers: number;
  /** HMAC of the PIN it was logged in with, under a per-process key: a second slot must bring the same PIN. */
  pinTag: Buffer | undefined;
  /** Set once the token refused a PIN: no provider of this process tries again. */
  refused: string | undefined;
}

/** A module loaded and initialised once per process (C_Initialize/C_Finalize are per application). */
interface LoadedModule {
  /** The module's real path: the registry key. */
  key: string;
  lib: Pkcs11Api;
  users: number;
  /** False when something else in the process had initialised it: then it is not ours to finalise. */
  ownsInit: boolean;
  tokens: Map<string, TokenLogin>;
}

const modules = new Map<string, LoadedModule>();
const pinTagKey = randomBytes(32);

function acquireModule(slot: string, binding: Pkcs11Binding, module: string): LoadedModule {
  const key = realModulePath(module);
  const known = modules.get(key);
  if (known) {
    known.users++;
    return known;
  }
  const lib = new binding.PKCS11();
  try {
    lib.load(module);
  } catch (error) {
    throw new ProviderError("misconfigured", slot, `cannot load the PKCS#11 module ${module}: ${(error as Error).message}`);
  }
  let ownsInit = true;
  try {
    lib.C_Initialize();
  } catch (error) {
    if (returnCode(error) !== "CKR_CRYPTOKI_ALREADY_INITIALIZED") {
      throw new ProviderError("unavailable", slot, `C_Initialize of ${module} failed: ${describeError(error)}`);
    }
    ownsInit = false;
  }
  const loaded: LoadedModule = { key, lib, users: 1, ownsInit, tokens: new Map() };
  modules.set(key, loaded);
  return loaded;
}

function releaseModule(loaded: LoadedModule): void {
  loaded.users--;
  if (loaded.users > 0) return;
  modules.delete(loaded.key);
  if (!loaded.ownsInit) return;
  try {
    loaded.lib.C_Finalize();
  } catch {
    // Nothing left to do with a module that will not finalise.
  }
}

// ---------------------------------------------------------------------------------------------------------
// The provider

/** Reads the PIN from its source. The caller hands it to C_Login and keeps no copy. */
function readPin(slot: string, config: Pkcs11Config, ctx: BackendContext): string {
  if ("env" in config.pin) {
    const value = ctx.env[config.pin.env];
    if (value === undefined || value === "") {
      throw new ProviderError("misconfigured", slot, `environment variable ${config.pin.env} (providers.${slot}.pin_env) is not set`);
    }
    return value;
  }
  const file = config.pin.file;
  let raw: Buffer;
  try {
    if ((statSync(file).mode & 0o077) !== 0) ctx.log.warn(`${slot}: pin_file ${file} is readable by group or others; chmod 600 it`);
    raw = readFileSync(file);
  } catch (error) {
    throw new ProviderError("misconfigured", slot, `cannot read pin_file ${file} (${(error as NodeJS.ErrnoException).code ?? describeError(error)})`);
  }
  try {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === 0x0a) end--;
    if (end > 0 && raw[end - 1] === 0x0d) end--;
    if (end === 0) throw new ProviderError("misconfigured", slot, `pin_file ${file} is empty`);
    return raw.toString("utf8", 0, end);
  } finally {
    wipe(raw);
  }
}

export async function createPkcs11Provider(slot: string, config: Pkcs11Config, ctx: BackendContext): Promise<KeyProvider> {
  const binding = await importPkcs11js(slot);
  const module = config.module;
  const label = config.tokenLabel;
  const tokenKey = label;
  const where = `token "${label}" of ${module}`;
  const loaded = acquireModule(slot, binding, module);
  const lib = loaded.lib;

  let session: Handle | undefined;
  let closed = false;
  /** Set when the token refused the PIN: the provider stays down without another login attempt. */
  let refused: ProviderError | undefined;
  const keys = new Map<string, Handle>();
  let token: TokenLogin | undefined;
  let connectedSlot = "";

  const fail = (kind: ProviderError["kind"], message: string) => new ProviderError(kind, slot, message);

  function findSlot(): Handle {
    let slots: Handle[];
    try {
      slots = lib.C_GetSlotList(true);
    } catch (error) {
      throw fail("unavailable", `C_GetSlotList of ${module} failed: ${describeError(error)}`);
    }
    const labels: string[] = [];
    const matches: Array<{ handle: Handle; flags: number }> = [];
    for (const handle of slots) {
      let info: { label: string; flags: number };
      try {
        info = lib.C_GetTokenInfo(handle);
      } catch {
        continue; // a slot whose token cannot be read is not the one configured
      }
      if ((info.flags & CKF_TOKEN_INITIALIZED) === 0) continue;
      const found = info.label.replace(/[ \0]+$/, "");
      labels.push(JSON.stringify(found));
      if (found === label.replace(/ +$/, "")) matches.push({ handle, flags: info.flags });
    }
    if (matches.length === 0) {
      const present = labels.length > 0 ? `tokens present: ${labels.join(", ")}` : "no initialised token is present";
      throw fail("misconfigured", `no token labelled "${label}" in the PKCS#11 module ${module} (${present})`);
    }
    if (matches.length > 1) throw fail("misconfigured", `${matches.length} tokens are labelled "${label}" in ${module}: labels must be unique`);
    const { handle, flags } = matches[0]!;
    if ((flags & CKF_USER_PIN_INITIALIZED) === 0) throw fail("misconfigured", `${where} has no user PIN set (initialise it with its SO PIN)`);
    if ((flags & CKF_USER_PIN_LOCKED) !== 0) throw fail("misconfigured", `the user PIN of ${where} is locked: unlock it with the SO PIN; no login was attempted`);
    if ((flags & CKF_USER_PIN_FINAL_TRY) !== 0) ctx.log.warn(`${slot}: ${where} reports one PIN attempt left before it locks`);
    else if ((flags & CKF_USER_PIN_COUNT_LOW) !== 0) ctx.log.warn(`${slot}: ${where} reports an earlier wrong PIN`);
    return handle;
  }

  /** Opens the session and logs it in, unless the token is already logged in for this process. */
  function connect(): void {
    const tokenSlot = findSlot();
    let opened: Handle;
    try {
      opened = lib.C_OpenSession(tokenSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION);
    } catch (error) {
      throw fail("unavailable", `cannot open a session on ${where}: ${describeError(error)}`);
    }
    try {
      token ??= loaded.tokens.get(tokenKey);
      if (!token) {
        token = { providers: 0, pinTag: undefined, refused: undefined };
        loaded.tokens.set(tokenKey, token);
      }
      if (token.refused) throw fail("misconfigured", `${where} refused the PIN earlier (${token.refused}); not trying again: fix the PIN and restart`);
      const pin = readPin(slot, config, ctx);
      const pinTag = createHmac("sha256", pinTagKey).update(pin, "utf8").digest();
      const loggedIn = lib.C_GetSessionInfo(opened).state === CKS_RW_USER_FUNCTIONS;
      if (loggedIn) {
        // Another slot of this process logged the token in: it must have used this slot's PIN too.
        if (token.pinTag && !timingSafeEqual(token.pinTag, pinTag)) {
          throw fail("misconfigured", `${where} is already logged in by another slot with a different PIN; no login was attempted`);
        }
      } else {
        try {
          lib.C_Login(opened, CKU_USER, pin);
        } catch (error) {
          const code = returnCode(error);
          if (code && PIN_REFUSED.has(code)) {
            token.refused = code;
            throw fail(
              "misconfigured",
              `login to ${where} refused: ${code}; the PIN from ${"env" in config.pin ? `environment variable ${config.pin.env}` : `pin_file ${config.pin.file}`} ` +
                "is wrong and is not retried (HSMs lock or wipe their keys after repeated wrong PINs)",
            );
          }
          if (code !== "CKR_USER_ALREADY_LOGGED_IN") throw fail("unavailable", `login to ${where} failed: ${describeError(error)}`);
        }
      }
      token.pinTag = pinTag;
    } catch (error) {
      try {
        lib.C_CloseSession(opened);
      } catch {
        // already gone
      }
      throw error instanceof ProviderError ? error : fail("unavailable", `logging in to ${where} failed: ${describeError(error)}`);
    }
    session = opened;
    connectedSlot = handleName(tokenSlot);
  }

  function dropSession(): void {
    const old = session;
    session = undefined;
    keys.clear();
    if (old) {
      try {
        lib.C_CloseSession(old);
      } catch {
        // already closed by the token
      }
    }
  }

  /**
   * Runs one operation on the session. The operation throws raw pkcs11js errors only for a lost session or
   * token: then the session is reopened (and logged in again with the PIN that worked) and the operation
   * runs once more.
   */
  function run<T>(opts: CallOptions | undefined, op: (session: Handle) => T): T {
    if (closed) throw fail("unavailable", "the provider is closed");
    if (refused) throw refused;
    if (opts?.signal?.aborted) throw fail("unavailable", "call aborted before it reached the token");
    let reconnected = false;
    if (!session) {
      reconnect();
      reconnected = true;
    }
    try {
      return op(session!);
    } catch (error) {
      if (error instanceof ProviderError || reconnected || !SESSION_LOST.has(returnCode(error) ?? "")) throw error;
      ctx.log.warn(`${slot}: the session on ${where} was lost (${describeError(error)}); reopening it`);
      dropSession();
      if (opts?.signal?.aborted) throw fail("unavailable", "call aborted");
      reconnect();
      return op(session!);
    }
  }

  function reconnect(): void {
    try {
      connect();
    } catch (error) {
      if (error instanceof ProviderError && error.kind === "misconfigured" && token?.refused) refused = error;
      throw error;
    }
  }

  /** Maps an error raised by pkcs11js outside the cases an operation handles itself. */
  function unexpected(what: string, error: unknown): never {
    if (error instanceof ProviderError) throw error;
    const code = returnCode(error);
    if (code && SESSION_LOST.has(code)) throw fail("unavailable", `${what}: ${code} (lost again after reopening the session)`);
    throw fail("unavailable", `${what} failed: ${describeError(error)}`);
  }

  function lookUpKey(s: Handle, kekId: string): Handle {
    if (!KEK_ID.test(kekId)) throw fail("misconfigured", "unknown KEK reference (not a pkcs11 KEK id)");
    const cached = keys.get(kekId);
    if (cached) return cached;
    const template: Attribute[] = [
      { type: CKA.CLASS, value: CKO_SECRET_KEY },
      { type: CKA.KEY_TYPE, value: CKK_AES },
      { type: CKA.LABEL, value: kekId },
      { type: CKA.ID, value: Buffer.from(kekId, "utf8") },
    ];
    lib.C_FindObjectsInit(s, template);
    let found: Handle[];
    try {
      found = lib.C_FindObjects(s, 2);
    } finally {
      lib.C_FindObjectsFinal(s);
    }
    if (found.length === 0) throw fail("misconfigured", `KEK ${kekId} is not in ${where}`);
    if (found.length > 1) throw fail("misconfigured", `more than one key in ${where} is labelled ${kekId}`);
    if (keys.size >= KEY_CACHE_LIMIT) keys.delete(keys.keys().next().value!);
    keys.set(kekId, found[0]!);
    return found[0]!;
  }

  /** Initialises a GCM operation with the KEK, looking the key up again if its cached handle went stale. */
  function initWithKey(s: Handle, kekId: string, init: (key: Handle) => void): void {
    for (let attempt = 0; ; attempt++) {
      const key = lookUpKey(s, kekId);
      try {
        init(key);
        return;
      } catch (error) {
        const code = returnCode(error) ?? "";
        if (HANDLE_STALE.has(code) && attempt === 0) {
          keys.delete(kekId);
          continue;
        }
        if (KEY_UNFIT.has(code)) throw fail("misconfigured", `the key ${kekId} in ${where} is disabled or cannot do AES-GCM (${code})`);
        throw error;
      }
    }
  }

  const gcm = (iv: Buffer, aad: Uint8Array): Mechanism => ({
    mechanism: CKM_AES_GCM,
    parameter: { type: CK_PARAMS_GCM, iv, ivBits: IV_BYTES * 8, aad: buffer(aad), tagBits: TAG_BYTES * 8 },
  });

  try {
    connect();
  } catch (error) {
    // A failed start leaves nothing behind: a later create() (a restart) tries once more.
    if (token?.providers === 0) loaded.tokens.delete(tokenKey);
    releaseModule(loaded);
    throw error;
  }
  token!.providers++;
  ctx.log.info(`${slot}: logged in to ${where} (PKCS#11 slot ${connectedSlot})`);

  return {
    slot,
    backend: "pkcs11",
    development: false,
    forgeableWraps: false,

    async createKek(_vaultId, opts) {
      const kekId = `pkcs11:${randomUUID()}`;
      try {
        return run(opts, (s) => {
          const key = lib.C_GenerateKey(s, { mechanism: CKM_AES_KEY_GEN }, [
            { type: CKA.CLASS, value: CKO_SECRET_KEY },
            { type: CKA.KEY_TYPE, value: CKK_AES },
            { type: CKA.VALUE_LEN, value: 32 },
            { type: CKA.TOKEN, value: true },
            { type: CKA.PRIVATE, value: true },
            { type: CKA.SENSITIVE, value: true },
            { type: CKA.EXTRACTABLE, value: false },
            { type: CKA.ENCRYPT, value: true },
            { type: CKA.DECRYPT, value: true },
            { type: CKA.WRAP, value: false },
            { type: CKA.UNWRAP, value: false },
            { type: CKA.SIGN, value: false },
            { type: CKA.VERIFY, value: false },
            { type: CKA.DERIVE, value: false },
            { type: CKA.LABEL, value: kekId },
            { type: CKA.ID, value: Buffer.from(kekId, "utf8") },
          ]);
          if (keys.size >= KEY_CACHE_LIMIT) keys.delete(keys.keys().next().value!);
          keys.set(kekId, key);
          return kekId;
        });
      } catch (error) {
        unexpected(`generating a KEK in ${where}`, error);
      }
    },

    async wrap(kekId, plaintext, aad, opts) {
      try {
        return run(opts, (s) => {
          const iv = randomBytes(IV_BYTES);
          const out = Buffer.alloc(HEADER_BYTES + plaintext.length + TAG_BYTES);
          out[0] = FORMAT_VERSION;
          iv.copy(out, 1);
          initWithKey(s, kekId, (key) => lib.C_EncryptInit(s, gcm(iv, aad), key));
          const sealed = lib.C_Encrypt(s, buffer(plaintext), out.subarray(HEADER_BYTES));
          if (sealed.length !== plaintext.length + TAG_BYTES) throw fail("unavailable", `the token returned ${sealed.length} bytes for AES-GCM`);
          return new Uint8Array(out.buffer, out.byteOffset, out.length);
        });
      } catch (error) {
        unexpected("wrapping", error);
      }
    },

    async unwrap(kekId, wrapped, aad, opts) {
      try {
        return run(opts, (s) => {
          if (wrapped.length < HEADER_BYTES + TAG_BYTES || wrapped[0] !== FORMAT_VERSION) {
            throw fail("integrity", "wrapped key is malformed");
          }
          const iv = Buffer.from(wrapped.subarray(1, HEADER_BYTES));
          const sealed = buffer(wrapped.subarray(HEADER_BYTES));
          initWithKey(s, kekId, (key) => lib.C_DecryptInit(s, gcm(iv, aad), key));
          // pkcs11js writes the plaintext here; the token may want room for the whole input.
          const scratch = Buffer.alloc(sealed.length);
          try {
            const opened = lib.C_Decrypt(s, sealed, scratch);
            return new Uint8Array(opened);
          } catch (error) {
            // A lost session is retried; any other failure of a well-formed input under a found key is the
            // tag (SoftHSM reports a bad tag as CKR_GENERAL_ERROR, so the code is not consulted).
            if (SESSION_LOST.has(returnCode(error) ?? "")) throw error;
            throw fail("integrity", "wrapped key failed its integrity check");
          } finally {
            wipe(scratch);
          }
        });
      } catch (error) {
        unexpected("unwrapping", error);
      }
    },

    /** Takes CKA_ENCRYPT and CKA_DECRYPT away from the key (both modifiable): the token refuses to use it. */
    async disableKek(kekId, opts) {
      try {
        run(opts, (s) => {
          for (let attempt = 0; ; attempt++) {
            try {
              lib.C_SetAttributeValue(s, lookUpKey(s, kekId), [
                { type: CKA.ENCRYPT, value: false },
                { type: CKA.DECRYPT, value: false },
              ]);
              return;
            } catch (error) {
              if (!HANDLE_STALE.has(returnCode(error) ?? "") || attempt > 0) throw error;
              keys.delete(kekId);
            }
          }
        });
      } catch (error) {
        unexpected(`disabling ${kekId}`, error);
      }
    },

    async health(opts): Promise<ProviderHealth> {
      const started = performance.now();
      const latency = () => Math.round((performance.now() - started) * 1000) / 1000;
      try {
        run(opts, (s) => {
          if (lib.C_GetSessionInfo(s).state !== CKS_RW_USER_FUNCTIONS) {
            // Logged out under us (e.g. the token was reset): reopen and log in like a lost session.
            throw new Error("CKR_USER_NOT_LOGGED_IN");
          }
        });
        return { status: "ok", latencyMs: latency() };
      } catch (error) {
        const detail = error instanceof ProviderError ? error.message : `${slot}: ${describeError(error)}`;
        return { status: "unavailable", latencyMs: latency(), detail };
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      const last = token ? --token.providers === 0 : true;
      if (last) loaded.tokens.delete(tokenKey);
      if (session && last) {
        try {
          lib.C_Logout(session);
        } catch {
          // not logged in any more
        }
      }
      dropSession();
      releaseModule(loaded);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The backend as the configuration file knows it

export const pkcs11Backend: Backend<Pkcs11Config> = {
  name: "pkcs11",
  parse(slot, fields, ctx) {
    if ("pin" in fields) {
      throw new ConfigError(`providers.${slot}.pin: the PIN never goes in the configuration file; name its source with pin_env or pin_file`);
    }
    const read = fieldReader(slot, "pkcs11", fields, ["module", "token_label", "pin_env", "pin_file"]);
    const module = resolve(ctx.configDir, read.string("module"));
    const tokenLabel = read.string("token_label");
    if (Buffer.byteLength(tokenLabel, "utf8") > LABEL_BYTES) {
      throw new ConfigError(`providers.${slot}.token_label must be at most ${LABEL_BYTES} bytes (a PKCS#11 token label)`);
    }
    const hasEnv = fields.pin_env !== undefined;
    const hasFile = fields.pin_file !== undefined;
    if (hasEnv === hasFile) {
      throw new ConfigError(
        `providers.${slot}: give exactly one of "pin_env" (the name of an environment variable holding the PIN) and "pin_file" (a file holding the PIN)`,
      );
    }
    const pin = hasEnv ? { env: read.envVarName("pin_env") } : { file: resolve(ctx.configDir, read.string("pin_file")) };
    return { module, tokenLabel, pin };
  },
  // The module's real path, so that a symlink and its target are one trust domain; label padding ignored.
  trustDomain: (config) => `pkcs11:${realModulePath(config.module)}#token=${config.tokenLabel.replace(/ +$/, "")}`,
  create: (slot, config, ctx) => createPkcs11Provider(slot, config, ctx),
};
