/**
 * Remembered token signature checks (auth/verified-tokens.ts), in-process over PGlite with the real signing
 * keys; the key list's public-key look-ups are counted (each signature check makes one), the clock is injected:
 *
 * - a token that verified once is not checked again (no public-key look-up) while it is valid;
 * - a remembered token is refused once it has expired, as jose refuses it, and is then checked afresh;
 * - a remembered token whose signing key left the key list (deleted; the NOTIFY reloads the list) is checked
 *   afresh, and refused;
 * - another token string (a changed signature or payload) is never answered from what was remembered;
 * - the table is bounded: past its size, the oldest token is checked again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ensureSigningKey, loadSigningKeys, type SigningKeys } from "../src/auth/signing-keys.js";
import { issueToken } from "../src/auth/tokens.js";
import { createTokenVerifier } from "../src/auth/verified-tokens.js";
import { AppError } from "../src/errors.js";
import { createLocalProvider } from "../src/providers/local.js";
import { createRegistry } from "../src/providers/registry.js";
import { provisionLocalKeys } from "./support/harness.js";
import { openTestDatabase } from "./support/in-process.js";

const ORG = "7b0f3c55-2f43-4c1e-9f57-3b6c1f1d6a10";
const claims = (n = 1) => ({ sub: `user:00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, org: ORG });

/** The key list with its public-key look-ups counted. */
function counted(keys: SigningKeys) {
  let lookups = 0;
  const wrapped: SigningKeys = { ...keys, publicKey: (kid) => (lookups++, keys.publicKey(kid)), has: (kid) => keys.has(kid) };
  return { keys: wrapped, lookups: () => lookups };
}

const refused = (message: RegExp) => (error: unknown) => error instanceof AppError && error.status === 401 && message.test(error.message);

describe("remembered token signature checks", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let keys: SigningKeys;

  before(async () => {
    database = await openTestDatabase("pglite", "tokens");
    const provider = createLocalProvider("gcp", join(provisionLocalKeys(), "gcp.key"));
    await ensureSigningKey(database.db, provider);
    keys = await loadSigningKeys(database.db, createRegistry([provider], "gcp"));
  });
  after(() => database?.close());

  test("a token that verified once is answered without another signature check while it is valid", async () => {
    const { keys: watched, lookups } = counted(keys);
    const verify = createTokenVerifier(watched);
    const token = await issueToken(keys, claims(), 60);
    assert.equal((await verify(token)).sub, claims().sub);
    assert.equal(lookups(), 1);
    for (let i = 0; i < 5; i++) assert.equal((await verify(token)).org, ORG);
    assert.equal(lookups(), 1, "a remembered token was checked again");
  });

  test("a remembered token is refused once expired, as jose refuses it", async () => {
    let offsetMs = 0;
    const { keys: watched, lookups } = counted(keys);
    const verify = createTokenVerifier(watched, { now: () => Date.now() + offsetMs });
    const token = await issueToken(keys, claims(), 60);
    await verify(token);
    offsetMs = 61_000;
    await assert.rejects(verify(token), refused(/expired/));
    assert.equal(lookups(), 1, "the expiry was decided from what was remembered");
    // Forgotten: the next use is checked by jose (with the real clock, still valid).
    offsetMs = 0;
    await verify(token);
    assert.equal(lookups(), 2);
  });

  test("another token string is never answered from a remembered one", async () => {
    const { keys: watched, lookups } = counted(keys);
    const verify = createTokenVerifier(watched);
    const token = await issueToken(keys, claims(), 60);
    await verify(token);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const flipped = signature.slice(0, -2) + (signature.at(-2) === "A" ? "B" : "A") + signature.at(-1);
    await assert.rejects(verify(`${header}.${payload}.${flipped}`), refused(/invalid token/));
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: claims(2).sub })).toString("base64url");
    await assert.rejects(verify(`${header}.${other}.${signature}`), refused(/invalid token/));
    assert.equal(lookups(), 3, "each changed token had its signature checked");
  });

  test("the table is bounded: past its size the oldest token is checked again", async () => {
    const { keys: watched, lookups } = counted(keys);
    const verify = createTokenVerifier(watched, { maxEntries: 3 });
    const tokens = await Promise.all([1, 2, 3, 4].map((n) => issueToken(keys, claims(n), 60)));
    for (const token of tokens) await verify(token);
    assert.equal(lookups(), 4);
    await verify(tokens[3]!);
    await verify(tokens[1]!);
    assert.equal(lookups(), 4, "the newer tokens are still remembered");
    await verify(tokens[0]!);
    assert.equal(lookups(), 5, "the oldest was forgotten");
  });

  // Last: it deletes the signing key.
  test("a remembered token whose signing key left the key list is checked afresh and refused", async () => {
    const { keys: watched, lookups } = counted(keys);
    const verify = createTokenVerifier(watched);
    const token = await issueToken(keys, claims(), 60);
    await verify(token);
    await database.db.query("DELETE FROM signing_keys");
    // The trigger's NOTIFY reloads the list; a remembered token counts only while its kid is in it.
    for (let i = 0; keys.has(keys.current.kid); i++) {
      assert.ok(i < 1000, "the key list never reloaded after the NOTIFY");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await assert.rejects(verify(token), refused(/invalid token/));
    assert.equal(lookups(), 2, "the token was checked afresh");
  });
});
