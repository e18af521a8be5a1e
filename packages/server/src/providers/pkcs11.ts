/**
 * The PKCS#11 HSM provider: `{"backend": "pkcs11", "module": "/usr/lib/softhsm/libsofthsm2.so",
 * "token_label": "…", "pin_env": "VAR"}` (or `"pin_file": "…"` instead of `pin_env`).
 *
 * Each vault's KEK is an AES-256 key generated inside the token (non-extractable, sensitive, private, on the
 * token), labelled with its reference `pkcs11:<uuid>`. Wrapping is CKM_AES_GCM in the token with a random
 * 96-bit IV, a 128-bit tag and the binding as AAD; the stored form is `version (1) | IV (12) | ciphertext+tag`.
 *
 * `pkcs11js` is a native, optional dependency: it is imported only when a pkcs11 slot is configured, so a
 * machine without a C++ toolchain runs every other backend (pkcs11-module.ts). Its calls are synchronous, so
 * one R/W session per provider, opened and logged in once at create(), serves every call without
 * interleaving (pkcs11-session.ts).
 *
 * The PIN is read from the named environment variable or file, handed to C_Login and to nothing else: it is
 * never logged or put in an error. A refused PIN is reported once and never retried (HSMs lock or wipe their
 * keys after repeated wrong PINs).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { wipe } from "@shardvault/crypto";
import { ConfigError, fieldReader, type Backend, type BackendContext } from "./backend.js";
import { ProviderError, type KeyProvider, type ProviderHealth } from "./provider.js";
import {
  buffer,
  CK_PARAMS_GCM,
  CKA,
  CKK_AES,
  CKM_AES_GCM,
  CKM_AES_KEY_GEN,
  CKO_SECRET_KEY,
  CKS_RW_USER_FUNCTIONS,
  describeError,
  HANDLE_STALE,
  LABEL_BYTES,
  realModulePath,
  returnCode,
  SESSION_LOST,
  type Attribute,
  type Mechanism,
  type Pkcs11Config,
} from "./pkcs11-api.js";
import { importPkcs11js } from "./pkcs11-module.js";
import { openTokenSession, type TokenSession } from "./pkcs11-session.js";

/** The stored form of a wrapped key: `version (1) | IV (12) | ciphertext+tag`. */
const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;

/** A KEK: AES-256, generated in the token, non-extractable, sensitive, private, for AES-GCM only. */
const kekTemplate = (kekId: string): Attribute[] => [
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
];

export async function createPkcs11Provider(slot: string, config: Pkcs11Config, ctx: BackendContext): Promise<KeyProvider> {
  const binding = await importPkcs11js(slot);
  // Typed explicitly: TypeScript sees that session.unexpected never returns only through a declared type.
  const session: TokenSession = openTokenSession(slot, config, ctx, binding);
  const { lib, where, fail, run } = session;

  const gcm = (iv: Buffer, aad: Uint8Array): Mechanism => ({
    mechanism: CKM_AES_GCM,
    parameter: { type: CK_PARAMS_GCM, iv, ivBits: IV_BYTES * 8, aad: buffer(aad), tagBits: TAG_BYTES * 8 },
  });

  return {
    slot,
    backend: "pkcs11",
    development: false,
    forgeableWraps: false,

    async createKek(_vaultId, opts) {
      const kekId = `pkcs11:${randomUUID()}`;
      try {
        return run(opts, (s) => {
          const key = lib.C_GenerateKey(s, { mechanism: CKM_AES_KEY_GEN }, kekTemplate(kekId));
          session.keys.remember(kekId, key);
          return kekId;
        });
      } catch (error) {
        session.unexpected(`generating a KEK in ${where}`, error);
      }
    },

    async wrap(kekId, plaintext, aad, opts) {
      try {
        return run(opts, (s) => {
          const iv = randomBytes(IV_BYTES);
          const out = Buffer.alloc(HEADER_BYTES + plaintext.length + TAG_BYTES);
          out[0] = FORMAT_VERSION;
          iv.copy(out, 1);
          session.keys.initWith(s, kekId, (key) => lib.C_EncryptInit(s, gcm(iv, aad), key));
          const sealed = lib.C_Encrypt(s, buffer(plaintext), out.subarray(HEADER_BYTES));
          if (sealed.length !== plaintext.length + TAG_BYTES) throw fail("unavailable", `the token returned ${sealed.length} bytes for AES-GCM`);
          return new Uint8Array(out.buffer, out.byteOffset, out.length);
        });
      } catch (error) {
        session.unexpected("wrapping", error);
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
          session.keys.initWith(s, kekId, (key) => lib.C_DecryptInit(s, gcm(iv, aad), key));
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
        session.unexpected("unwrapping", error);
      }
    },

    /** Takes CKA_ENCRYPT and CKA_DECRYPT away from the key (both modifiable): the token refuses to use it. */
    async disableKek(kekId, opts) {
      try {
        run(opts, (s) => {
          for (let attempt = 0; ; attempt++) {
            try {
              lib.C_SetAttributeValue(s, session.keys.lookUp(s, kekId), [
                { type: CKA.ENCRYPT, value: false },
                { type: CKA.DECRYPT, value: false },
              ]);
              return;
            } catch (error) {
              if (!HANDLE_STALE.has(returnCode(error) ?? "") || attempt > 0) throw error;
              session.keys.forget(kekId);
            }
          }
        });
      } catch (error) {
        session.unexpected(`disabling ${kekId}`, error);
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
      session.close();
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
