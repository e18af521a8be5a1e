/**
 * Member passwords: argon2id (RFC 9106) through @node-rs/argon2, which ships prebuilt binaries, so installing
 * needs no compiler. Parameters are OWASP's first recommendation for argon2id: 19 MiB, 2 passes, 1 lane. The
 * PHC string stores them beside salt and hash, so stronger parameters later still verify old hashes.
 */
import { randomBytes } from "node:crypto";
import { hash, verify, type Options } from "@node-rs/argon2";
import { PASSWORD_MIN_LENGTH } from "@shardvault/api";
import { badRequest } from "../errors.js";

// `Algorithm` is an ambient const enum there, which verbatimModuleSyntax cannot read: 2 is Argon2id.
const ARGON2ID = 2 as NonNullable<Options["algorithm"]>;
const PARAMETERS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function checkNewPassword(password: string): void {
  // Counted in code points, as a person counts characters.
  if ([...password].length < PASSWORD_MIN_LENGTH) {
    throw badRequest("password_too_short", `the password must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMETERS);
}

export async function passwordMatches(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    // A stored hash that does not parse verifies nothing.
    return false;
  }
}

/**
 * Verifies against a hash of a random password when there is no user to verify against, so that a sign-in with
 * an unknown email costs what a wrong password costs and its timing does not tell them apart.
 */
export function createDecoyVerifier(): (password: string) => Promise<false> {
  const decoy = hashPassword(randomBytes(32).toString("base64url"));
  return async (password) => {
    await passwordMatches(await decoy, password);
    return false;
  };
}
