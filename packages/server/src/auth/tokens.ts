/** Access tokens: EdDSA JWTs (jose) naming the principal and what they were issued from. */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { unauthorized } from "../errors.js";
import type { SigningKeys } from "./signing-keys.js";

export const ISSUER = "shardvault";
export const USER_TOKEN_TTL_SECONDS = 3600;

export interface TokenClaims {
  sub: string; // "user:<uuid>" or "agent:<uuid>"
  org: string;
  /** User tokens from an API key: the key they were issued from. */
  key_id?: string;
  /**
   * Agent tokens: the agent's key generation; sign-in tokens: the user's session generation. Compared with the
   * database on every request, so re-keying or a password change ends older tokens at once.
   */
  gen?: number;
  scopes?: string[];
  vault_ids?: string[];
}

export async function issueToken(keys: SigningKeys, claims: TokenClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "EdDSA", kid: keys.current.kid, typ: "JWT" })
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.current.privateKey);
}

export async function verifyToken(keys: SigningKeys, token: string): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid ? await keys.publicKey(header.kid) : undefined;
        if (!key) throw unauthorized("the token was signed by an unknown key");
        return key;
      },
      { algorithms: ["EdDSA"], issuer: ISSUER },
    );
    if (typeof payload.sub !== "string" || typeof payload.org !== "string") throw unauthorized("malformed token");
    return payload as unknown as TokenClaims;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthorized("the token has expired");
    throw unauthorized("invalid token");
  }
}

/** A sign-in token: the user's session generation ends it when the password changes or the member is removed. */
export async function issueSessionToken(keys: SigningKeys, user: { id: string; org_id: string; session_generation: number }) {
  const token = await issueToken(keys, { sub: `user:${user.id}`, org: user.org_id, gen: user.session_generation }, USER_TOKEN_TTL_SECONDS);
  return { access_token: token, token_type: "Bearer", expires_in: USER_TOKEN_TTL_SECONDS };
}
