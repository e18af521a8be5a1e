/**
 * The local development provider: a 32-byte master key in a file (mode 0600) in the keys folder, one file per
 * slot. Each vault's KEK is derived from the master key with HKDF under the KEK's random id, so no per-vault
 * key needs storing; wrapping is AES-256-GCM with the binding as associated data.
 *
 * Beside the key file, a key check value (`<key file>.kcv`, an HMAC of a fixed label under the key) records
 * that the slot has a key: a key file deleted later (key material destroyed) is not silently replaced by a
 * fresh one, and a key file swapped for another is not used. Either way the slot reports itself unavailable,
 * and MPC vaults read from their other slots.
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
const KEK_ID = /^local:[0-9a-f-]{36}$/;
const KEY_CHECK_LABEL = "shardvault/local-provider/key-check/v1";

/**
 * Writes a file whole to a temporary name, then links it into place: another process starting at the same
 * time never reads it half-written, and of two racing creators exactly one wins (link fails with EEXIST).
 */
function createOnce(file: string, contents: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  try {
    writeFileSync(temporary, contents, { mode: 0o600, flag: "wx" });
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

const keyCheckOf = (master: KeyObject) => createHmac("sha256", master).update(KEY_CHECK_LABEL).digest("hex");

/**
 * The slot's master key, from its key file (created, mode 0600, on the slot's first use), checked against the
 * key check value beside it; or why the slot has no usable key.
 */
function loadMasterKey(keyFile: string): KeyObject | { lost: string } {
  const checkFile = `${keyFile}.kcv`;
  if (!existsSync(keyFile)) {
    if (existsSync(checkFile)) return { lost: "its key file is missing: the key material was destroyed or moved" };
    const fresh = randomFillSync(Buffer.alloc(MASTER_KEY_LENGTH));
    try {
      createOnce(keyFile, fresh);
    } finally {
      wipe(fresh);
    }
  }
  chmodSync(keyFile, 0o600);
  const raw = readFileSync(keyFile);
  try {
    if (raw.length !== MASTER_KEY_LENGTH) {
      throw new ProviderError("misconfigured", keyFile, `key file must hold ${MASTER_KEY_LENGTH} bytes, holds ${raw.length}`);
    }
    const master = createSecretKey(raw);
    if (!existsSync(checkFile)) createOnce(checkFile, `${keyCheckOf(master)}\n`);
    if (readFileSync(checkFile, "utf8").trim() !== keyCheckOf(master)) return { lost: "its key file does not match the key check value beside it" };
    return master;
  } finally {
    wipe(raw);
  }
}

export function localKeyFile(keysDir: string, slot: string): string {
  return join(keysDir, `${slot}.key`);
}

export function createLocalProvider(slot: string, keyFile: string): KeyProvider {
  mkdirSync(join(keyFile, ".."), { recursive: true, mode: 0o700 });
  const loaded = loadMasterKey(keyFile);
  // Disabled KEK ids, one per line, beside the key file.
  const disabledFile = `${keyFile}.disabled`;
  const disabled = new Set(existsSync(disabledFile) ? readFileSync(disabledFile, "utf8").split("\n").filter(Boolean) : []);

  function withKek<T>(kekId: string, fn: (kek: Uint8Array) => T): T {
    if ("lost" in loaded) throw new ProviderError("unavailable", slot, loaded.lost);
    const master = loaded;
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
      if ("lost" in loaded) throw new ProviderError("unavailable", slot, loaded.lost);
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
      return "lost" in loaded ? { status: "unavailable", latencyMs: 0, detail: loaded.lost } : { status: "ok", latencyMs: 0 };
    },
    async close() {},
  };
}
