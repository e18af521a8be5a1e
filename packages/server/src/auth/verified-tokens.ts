/**
 * Access-token signature checks, remembered per token. Checking an EdDSA signature cost about a tenth of a
 * secret read; a client sends the same token for up to an hour.
 *
 * Why remembering is safe: a JWT is immutable, and what its signature proves (these claims, from this key) is
 * true of those exact bytes forever. What can change is checked again on every use of a remembered token:
 * - its expiry, against the clock, as jose checks it (expired once `exp` ≤ now in whole seconds);
 * - the signing key: a remembered token counts only while its `kid` is still in the key list, which every
 *   instance keeps current through NOTIFY (signing-keys.ts), so a removed key ends its tokens as before;
 * - revocation (key revoked, agent deactivated or re-keyed, password changed, member removed) is not a property
 *   of the token at all: it is checked against the database by the authentication query on every request
 *   (authenticate.ts), remembered token or not.
 * Tokens are remembered under their SHA-256, so looking one up compares digests an attacker cannot steer, never
 * token bytes; only tokens that verified are remembered (a forgery is checked, and refused, every time); and
 * the table is bounded, oldest first out.
 */
import { createHash } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { unauthorized } from "../errors.js";
import type { SigningKeys } from "./signing-keys.js";
import { verifyToken, type TokenClaims } from "./tokens.js";

/** At most this many tokens are remembered (a few MB). */
export const REMEMBERED_TOKENS = 10_000;

export type TokenVerifier = (token: string) => Promise<TokenClaims>;

export interface TokenVerifierOptions {
  /** Wall-clock milliseconds, as jose reads them; injected by tests. */
  now?: () => number;
  maxEntries?: number;
}

export function createTokenVerifier(keys: SigningKeys, opts: TokenVerifierOptions = {}): TokenVerifier {
  const now = opts.now ?? Date.now;
  const maxEntries = opts.maxEntries ?? REMEMBERED_TOKENS;
  const verified = new Map<string, { claims: TokenClaims; kid: string; exp: number }>();

  return async (token) => {
    const digest = createHash("sha256").update(token).digest("base64");
    const known = verified.get(digest);
    if (known) {
      if (known.exp <= Math.floor(now() / 1000)) {
        verified.delete(digest);
        throw unauthorized("the token has expired");
      }
      if (keys.has(known.kid)) return known.claims;
      // Its key left the list: verified afresh, which refuses it.
      verified.delete(digest);
    }
    const claims = await verifyToken(keys, token);
    const { kid } = decodeProtectedHeader(token);
    const exp = (claims as { exp?: unknown }).exp;
    // Tokens without an expiry are never issued; one would not be remembered.
    if (typeof kid === "string" && typeof exp === "number") {
      if (verified.size >= maxEntries) verified.delete(verified.keys().next().value!);
      verified.set(digest, { claims: Object.freeze(claims), kid, exp });
    }
    return claims;
  };
}
