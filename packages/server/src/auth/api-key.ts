/**
 * API keys: `1ck_` (users) or `ocv_` (agents) followed by 32 random bytes in base64url. Keys are not
 * passwords: they have full entropy, so SHA-256 is the right hash; it is stored under a unique index and
 * used for lookup, and the found hash is compared again in constant time.
 */
import { createHash, randomBytes } from "node:crypto";

export const USER_KEY_PREFIX = "1ck_";
export const AGENT_KEY_PREFIX = "ocv_";

export function generateApiKey(prefix: string): string {
  return prefix + randomBytes(32).toString("base64url");
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** The non-secret beginning shown in listings so users can tell keys apart. */
export function displayPrefix(key: string): string {
  return key.slice(0, 12);
}
