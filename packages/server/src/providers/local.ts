/**
 * The local development provider: a 32-byte master key in a file (mode 0600) in the keys folder, one file per
 * slot. Each vault's KEK is derived from the master key with HKDF under the KEK's random id, so no per-vault
 * key needs storing; wrapping is AES-256-GCM with the binding as associated data.
 *
 * Whoever holds the key file and the database can decrypt: this backend is for development only.
 */
import { createHmac, randomFillSync, randomUUID, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";
import { appendFileSync, chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CryptoError, open, seal, wipe } from "@shardvault/crypto";
import { ProviderError, type KeyProvider, type ProviderHealth } from "./provider.js";

const MASTER_KEY_LENGTH = 32;
const KEK_INFO_PREFIX = "shardvault/local-provider/kek/v1/";
const KEY_CHECK_LABEL = "shardvault/local-provider/key-check/v1";
const KEK_ID = /^local:[0-9a-f-]{36}$/;

/** Creates the slot's master key file (mode 0600) unless it exists. */
function createKeyFileIfMissing(keyFile: string): void {
  if (existsSync(keyFile)) return;
  // Written whole to a temporary file, then linked into place: another process starting at the same time
  // never reads a half-written key, and of two racing creators exactly one wins (link fails with EEXIST).
  const fresh = randomFillSync(Buffer.alloc(MASTER_KEY_LENGTH));
  const temporary = `${keyFile}.${process.pid}.${randomUUID()}.tmp`;
  try {
    writeFileSync(temporary, fresh, { mode: 0o600, flag: "wx" });
    linkSync(temporary, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    wipe(fresh);
    rmSync(temporary, { force: true });
  }
}

function readMasterKey(keyFile: string): KeyObject {
  chmodSync(keyFile, 0o600);
  const raw = readFileSync(keyFile);
  try {
    if (raw.length !== MASTER_KEY_LENGTH) {
      throw new ProviderError("misconfigured", keyFile, `key file must hold ${MASTER_KEY_LENGTH} bytes, holds ${raw.length}`);
    }
    return createSecretKey(raw);
  } finally {
    wipe(raw);
  }
}

export function localKeyFile(keysDir: string, slot: string): string {
  return join(keysDir, `${slot}.key`);
}

/**
 * A check value of a key file's master key (HMAC under it of a fixed label), stored in the database to tell
 * the key file a slot's data was made with from any other. Like a key check value, it reveals nothing usable
 * about the key.
 */
export function keyFileCheck(keyFile: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", readMasterKey(keyFile)).update(KEY_CHECK_LABEL).digest());
}

export function createLocalProvider(slot: string, keyFile: string): KeyProvider {
  mkdirSync(join(keyFile, ".."), { recursive: true, mode: 0o700 });
  createKeyFileIfMissing(keyFile);
  const master = readMasterKey(keyFile);
  // Disabled KEK ids, one per line, beside the key file.
  const disabledFile = `${keyFile}.disabled`;
  const disabled = new Set(existsSync(disabledFile) ? readFileSync(disabledFile, "utf8").split("\n").filter(Boolean) : []);

  function withKek<T>(kekId: string, fn: (kek: Uint8Array) => T): T {
    if (!KEK_ID.test(kekId)) throw new ProviderError("misconfigured", slot, "unknown KEK reference");
    if (disabled.has(kekId)) throw new ProviderError("misconfigured", slot, "the KEK is disabled");
    const kek = new Uint8Array(hkdfSync("sha256", master, Buffer.alloc(0), KEK_INFO_PREFIX + kekId, 32));
    try {
      return fn(kek);
    } finally {
      wipe(kek);
    }
  }

  return {
    slot,
    backend: "local",
    development: true,
    forgeableWraps: false,
    async createKek() {
      return `local:${randomUUID()}`;
    },
    async wrap(kekId, plaintext, aad) {
      return withKek(kekId, (kek) => seal(kek, plaintext, aad));
    },
    async unwrap(kekId, wrapped, aad) {
      return withKek(kekId, (kek) => {
        try {
          return open(kek, wrapped, aad);
        } catch (error) {
          if (error instanceof CryptoError) throw new ProviderError("integrity", slot, "wrapped key failed its integrity check");
          throw error;
        }
      });
    },
    async disableKek(kekId) {
      if (disabled.has(kekId)) return;
      appendFileSync(disabledFile, `${kekId}\n`, { mode: 0o600 });
      disabled.add(kekId);
    },
    async health(): Promise<ProviderHealth> {
      return { status: "ok", latencyMs: 0 };
    },
    async close() {},
  };
}
