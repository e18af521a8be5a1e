/**
 * The token signing keys in memory (auth/signing-keys.ts), in-process on PGlite and PostgreSQL, with the
 * database wrapped to count key-list loads and the clock injected:
 *
 * - tokens naming unknown kids are refused from memory: however many arrive, the key list is reloaded at most
 *   once per interval (once when the interval has passed, not at all before);
 * - a key added through another instance (PostgreSQL, two connections) is accepted once its NOTIFY arrives,
 *   with the clock standing still, and the NOTIFY costs one reload;
 * - the buffer the provider returned with the unwrapped private key is wiped once the key is imported.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SignJWT } from "jose";
import { addSigningKey, ensureSigningKey, loadSigningKeys, type SigningKeys } from "../src/auth/signing-keys.js";
import { ISSUER, issueToken, verifyToken } from "../src/auth/tokens.js";
import type { Database } from "../src/db/database.js";
import { openPostgres } from "../src/db/postgres.js";
import { createLocalProvider } from "../src/providers/local.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { createRegistry } from "../src/providers/registry.js";
import { AppError } from "../src/errors.js";
import { DATABASE_KINDS, provisionLocalKeys } from "./support/harness.js";
import { openTestDatabase } from "./support/in-process.js";
import { skipReasonFor } from "./support/postgres.js";

const INTERVAL_MS = 30_000;

/** Counts loads of the key list through this database. */
function countingLoads(db: Database) {
  let loads = 0;
  const counted: Database = {
    ...db,
    query<T>(sql: string, params?: readonly unknown[]) {
      if (/^SELECT kid\b.* FROM signing_keys/s.test(sql)) loads++;
      return db.query<T>(sql, params);
    },
  };
  return { db: counted, loads: () => loads };
}

/** A well-signed token naming a kid the server never made. */
async function tokenWithKid(kid: string): Promise<string> {
  const { privateKey } = generateKeyPairSync("ed25519");
  return new SignJWT({ sub: `user:${randomUUID()}`, org: randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime("60s")
    .sign(privateKey);
}

async function assertRefused(keys: SigningKeys, token: string): Promise<void> {
  await assert.rejects(verifyToken(keys, token), (error: unknown) => error instanceof AppError && error.status === 401);
}

const claims = () => ({ sub: `user:${randomUUID()}`, org: randomUUID() });

for (const kind of DATABASE_KINDS) {
  describe(`auth signing keys in memory on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    let provider: KeyProvider;
    let keysDir: string;

    before(async () => {
      database = await openTestDatabase(kind, "keys");
      keysDir = provisionLocalKeys();
      provider = createLocalProvider("gcp", join(keysDir, "gcp.key"));
      await ensureSigningKey(database.db, provider);
    });
    after(() => database?.close());

    test("unknown kids are refused from memory: at most one reload of the key list per interval", async () => {
      let clock = 1_000_000;
      const counting = countingLoads(database.db);
      const keys = await loadSigningKeys(counting.db, createRegistry([provider], "gcp"), { now: () => clock, reloadIntervalMs: INTERVAL_MS });
      assert.equal(counting.loads(), 1, "loaded once at start");
      const good = await issueToken(keys, claims(), 60);
      const burst = async (n: number) => {
        const tokens = await Promise.all(Array.from({ length: n }, () => tokenWithKid(randomUUID())));
        await Promise.all(tokens.map((t) => assertRefused(keys, t)));
      };

      await burst(200);
      assert.equal(counting.loads(), 1, "unknown kids within the interval made the server query its database");
      clock += INTERVAL_MS - 1;
      await burst(50);
      assert.equal(counting.loads(), 1, "reloaded before the interval had passed");
      clock += 1;
      await burst(200);
      assert.equal(counting.loads(), 2, "once the interval has passed, a burst of unknown kids reloads exactly once");
      await burst(50);
      assert.equal(counting.loads(), 2);
      // The server's own tokens never cost a query.
      assert.equal((await verifyToken(keys, good)).sub.startsWith("user:"), true);
      assert.equal(counting.loads(), 2);
    });

    test("the buffer the provider returned with the private key is wiped after import", async () => {
      const returned: Uint8Array[] = [];
      const spied: KeyProvider = {
        ...provider,
        async unwrap(...args) {
          const out = await provider.unwrap(...args);
          returned.push(out);
          return out;
        },
      };
      const keys = await loadSigningKeys(database.db, createRegistry([spied], "gcp"));
      assert.equal(returned.length, 1);
      assert.ok(returned[0]!.length > 0);
      assert.ok(returned[0]!.every((b) => b === 0), "the provider's buffer still holds the private key");
      // The imported key still signs.
      await verifyToken(keys, await issueToken(keys, claims(), 60));
    });

    if (kind === "postgres") {
      test("a key added through another instance is accepted once its NOTIFY arrives (the clock stands still)", async () => {
        const counting = countingLoads(database.db);
        const a = await loadSigningKeys(counting.db, createRegistry([provider], "gcp"), { now: () => 0, reloadIntervalMs: INTERVAL_MS });
        const other = await openPostgres(database.pg!.url, 2);
        try {
          // Instance B adds a key (as a rotation would): a second row, newer than the first.
          await addSigningKey(other, provider);
          const b = await loadSigningKeys(other, createRegistry([provider], "gcp"));
          assert.notEqual(b.current.kid, a.current.kid, "B signs with the new key");
          const token = await issueToken(b, claims(), 60);
          let accepted = false;
          for (let attempt = 0; attempt < 400 && !accepted; attempt++) {
            accepted = await verifyToken(a, token).then(
              () => true,
              () => false,
            );
            if (!accepted) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          assert.ok(accepted, "A never accepted the key B added");
          assert.equal(counting.loads(), 2, "the start-up load and the one the NOTIFY caused");
          assert.ok((await a.jwks()).keys.some((k) => k.kid === b.current.kid), "A's JWKS lists the new key");
        } finally {
          await other.close();
        }
      });
    }
  });
}
