/**
 * SoftHSM2 tokens for tests: each in a fresh temporary folder with its own softhsm2.conf, so tests never
 * touch the machine's tokens or each other's.
 *
 *   const skip = await softHsmSkipReason();   // false when SoftHSM2 and pkcs11js are usable
 *   const hsm = makeSoftHsm({ label: "shardvault-test" });   // sets process.env.SOFTHSM2_CONF
 *   … { module: hsm.module, token_label: hsm.label } with hsm.pin …
 *   await hsm.cleanup();
 *
 * SoftHSM reads SOFTHSM2_CONF when the module is initialised (C_Initialize), so a process uses one token
 * folder at a time: add more tokens to the same folder with `addToken`.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const SOFTHSM_UTIL = "softhsm2-util";

// Token folders still there when the process exits (a failed or interrupted suite) are removed then.
const ownedDirs = new Set<string>();
process.on("exit", () => {
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
});

export interface SoftHsmToken {
  label: string;
  /** The user PIN (random, distinctive enough to search for in output). */
  pin: string;
  soPin: string;
}

export interface SoftHsm extends SoftHsmToken {
  module: string;
  /** The softhsm2.conf of this folder. */
  conf: string;
  dir: string;
  /** Initialises one more token in the same folder. */
  addToken(label: string): SoftHsmToken;
  /** Removes the folder and restores SOFTHSM2_CONF if this set it. Close providers first. */
  cleanup(): Promise<void>;
}

/**
 * `false` when softhsm2-util, the SoftHSM2 module and pkcs11js are all there; otherwise a skip message naming
 * what to install. With `CI=true` a missing piece throws instead, so that the suite fails.
 */
export async function softHsmSkipReason(env: NodeJS.ProcessEnv = process.env): Promise<string | false> {
  const missing: string[] = [];
  const util = spawnSync(SOFTHSM_UTIL, ["--version"], { encoding: "utf8" });
  if (util.error || util.status !== 0) missing.push(`${SOFTHSM_UTIL} (apt-get install softhsm2)`);
  if (!existsSync(SOFTHSM_MODULE)) missing.push(`${SOFTHSM_MODULE} (apt-get install softhsm2)`);
  try {
    const specifier = "pkcs11js";
    await import(specifier);
  } catch {
    missing.push("pkcs11js (npm ci on a machine with a C++ toolchain: python3, make, g++)");
  }
  if (missing.length === 0) return false;
  const message = `PKCS#11 tests need ${missing.join(", ")}`;
  if (env.CI === "true") throw new Error(`${message} (CI=true: failing instead of skipping)`);
  return message;
}

function initToken(conf: string, label: string): SoftHsmToken {
  const pin = `pin-${randomBytes(8).toString("hex")}`;
  const soPin = `so-${randomBytes(8).toString("hex")}`;
  const result = spawnSync(SOFTHSM_UTIL, ["--init-token", "--free", "--label", label, "--so-pin", soPin, "--pin", pin], {
    encoding: "utf8",
    env: { ...process.env, SOFTHSM2_CONF: conf },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`softhsm2-util --init-token failed (${result.status}): ${result.error?.message ?? ""}${result.stderr}${result.stdout}`);
  }
  return { label, pin, soPin };
}

/**
 * A fresh token folder with one initialised token. Sets process.env.SOFTHSM2_CONF unless `setEnv` is false
 * (for a token meant for a child process, which gets `conf` in its environment instead).
 */
export function makeSoftHsm(opts: { label?: string; setEnv?: boolean } = {}): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), "sv-softhsm-"));
  ownedDirs.add(dir);
  const tokens = join(dir, "tokens");
  mkdirSync(tokens, { mode: 0o700 });
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const first = initToken(conf, opts.label ?? `sv-${randomBytes(4).toString("hex")}`);
  const setEnv = opts.setEnv ?? true;
  const previous = process.env.SOFTHSM2_CONF;
  if (setEnv) process.env.SOFTHSM2_CONF = conf;
  return {
    ...first,
    module: SOFTHSM_MODULE,
    conf,
    dir,
    addToken: (label) => initToken(conf, label),
    async cleanup() {
      if (setEnv && process.env.SOFTHSM2_CONF === conf) {
        if (previous === undefined) delete process.env.SOFTHSM2_CONF;
        else process.env.SOFTHSM2_CONF = previous;
      }
      rmSync(dir, { recursive: true, force: true });
      ownedDirs.delete(dir);
    },
  };
}

/** pkcs11js itself, for looking at a token from outside the provider. */
export interface Pkcs11js {
  PKCS11: new () => any;
  [name: string]: any;
}

export async function loadPkcs11js(): Promise<Pkcs11js> {
  const specifier = "pkcs11js";
  const loaded = await import(specifier);
  return (loaded.default ?? loaded) as Pkcs11js;
}

/**
 * Opens the token labelled `label` with pkcs11js directly, logged in as the user, and runs `fn`. SoftHSM keeps
 * token objects in files, so what another process (a server) did to the token is visible here.
 */
export function withToken<T>(p: Pkcs11js, label: string, pin: string, fn: (lib: any, session: Buffer) => T): T {
  const lib = new p.PKCS11();
  lib.load(SOFTHSM_MODULE);
  lib.C_Initialize();
  try {
    const slot = (lib.C_GetSlotList(true) as Buffer[]).find((s) => lib.C_GetTokenInfo(s).label.trim() === label);
    if (!slot) throw new Error(`token ${label} not found`);
    const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
    lib.C_Login(session, p.CKU_USER, pin);
    try {
      return fn(lib, session);
    } finally {
      lib.C_Logout(session);
      lib.C_CloseSession(session);
    }
  } finally {
    lib.C_Finalize();
  }
}
