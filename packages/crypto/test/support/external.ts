/**
 * Data that lives outside the repository. A test that needs some calls `requireExternal` first: when the data
 * is missing the test is skipped with a message naming what to install, except on CI (`CI=true`), where a
 * missing file is a broken setup and the test fails instead.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root (/work/main here): this file is packages/crypto/test/support/external.ts. */
const REPO_ROOT = new URL("../../../../", import.meta.url);

/** Wycheproof vectors, kept in `shared/`, the repository's sibling folder, and read in place. */
export const WYCHEPROOF_DIR = fileURLToPath(new URL("../shared/vectors/wycheproof/", REPO_ROOT));
export const WYCHEPROOF_INSTALL =
  "install the Wycheproof test vectors (C2SP/wycheproof testvectors_v1) in shared/vectors/wycheproof/ beside the repository";

/** NIST CAVP AES-GCM vectors as Debian ships them. */
export const CAVP_GCM_DIR = "/usr/lib/python3/dist-packages/cryptography_vectors/ciphers/AES/GCM/";
export const CAVP_INSTALL = "install it with: apt-get install python3-cryptography-vectors";

interface Skippable {
  skip(message?: string): void;
}

/**
 * True when `path` exists and the test should run. Otherwise skips `t` with a message naming `install` and
 * returns false, or, on CI, throws so that the test fails.
 */
export function requireExternal(t: Skippable, path: string, install: string, env = process.env): boolean {
  if (existsSync(path)) return true;
  const message = `${path} is missing (${install})`;
  if (env.CI === "true") throw new Error(`${message} (CI=true: missing external data is a failure, not a skip)`);
  t.skip(message);
  return false;
}
