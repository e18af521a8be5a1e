/**
 * A local provider slot whose key file is gone or replaced (providers.md, "A slot whose key material is gone"):
 *
 * - a slot that already holds KEKs or shares in the database never gets a fresh key file: the server starts,
 *   reports the slot unavailable (start-up lines and /v1/health/hsm) naming the key file, and serves what the
 *   other slots can; a key file that is not the one the slot's data was written with is treated alike;
 * - the default slot wraps the token signing key: without its key file the server does not start, says which
 *   file is missing or wrong, and creates no key file at all (no slot's);
 * - a slot never used gets a fresh key file, as on a first start;
 * - a second instance pointed at the same PostgreSQL with other key files creates nothing and names the file.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { api, makeTempDir, expectStartFailure, startServer } from "./support/harness.js";
import { assertValue, createVault, mode, putSecret } from "./support/mpc-support.js";
import { createTestDatabase, postgresSkipReason } from "./support/postgres.js";

const MULTI_HSM = mode("2of3_multi_hsm");

/** A multi-HSM vault with one secret (so gcp, aws and azure all hold shares); answers how to read it back. */
async function seed(url: string, key: string): Promise<{ vaultId: string; value: string }> {
  const admin = api(url, key);
  const vault = await createVault(admin, "seeded", { custody_mode: MULTI_HSM.name });
  const value = `seeded-${randomBytes(8).toString("hex")}`;
  await putSecret(admin, vault.id, "db/password", value, MULTI_HSM);
  return { vaultId: vault.id, value };
}

async function slotHealth(url: string, key: string): Promise<Record<string, string>> {
  const res = await api(url, key).get("/v1/health/hsm");
  assert.equal(res.status, 200, res.text);
  return Object.fromEntries(res.body.providers.map((p: { slot: string; status: string }) => [p.slot, p.status]));
}

describe("key files of used slots", () => {
  const nonDefault = [
    {
      slot: "aws",
      damage: "missing",
      change: (file: string) => rmSync(file),
      said: (file: string) => `its key file ${file} is missing`,
      left: (file: string) => assert.ok(!existsSync(file), "a used slot got a fresh key file"),
    },
    {
      slot: "azure",
      damage: "replaced",
      change: (file: string) => writeFileSync(file, Buffer.alloc(32, 7)),
      said: (file: string) => `its key file ${file} is not the one this database's azure key material was made with`,
      left: (file: string) => assert.deepEqual(readFileSync(file), Buffer.alloc(32, 7), "the file is left as it is"),
    },
  ];
  for (const { slot, damage, change, said, left } of nonDefault) {
    test(`a non-default slot's key file ${damage}: no fresh one; the slot is unavailable, named at start-up and in health; reads go on`, async () => {
      const dataDir = makeTempDir();
      const file = join(dataDir, "keys", `${slot}.key`);
      const first = await startServer({ database: "pglite", dataDir });
      const adminKey = first.adminKey;
      const seeded = await seed(first.url, adminKey);
      await first.stop();

      change(file);
      const second = await startServer({ database: "pglite", dataDir, adminKey });
      try {
        left(file);
        assert.match(second.output(), new RegExp(`provider slot ${slot} is unavailable: ${said(file)}`));
        assert.deepEqual(await slotHealth(second.url, adminKey), { gcp: "ok", aws: "ok", azure: "ok", [slot]: "unavailable" });
        assertValue(await api(second.url, adminKey).get(`/v1/vaults/${seeded.vaultId}/secrets/db/password`), seeded.value, 1, "the two other slots");
      } finally {
        await second.stop();
      }
    });
  }

  test("the default slot's key file missing or replaced: no start, the file named, no key file created", async () => {
    const dataDir = makeTempDir();
    const keys = join(dataDir, "keys");
    const first = await startServer({ database: "pglite", dataDir });
    const adminKey = first.adminKey;
    await first.stop();

    // aws and azure hold nothing yet: only gcp (the token signing key) is in use.
    rmSync(join(keys, "gcp.key"));
    rmSync(join(keys, "aws.key"));
    const missing = await expectStartFailure({ database: "pglite", dataDir, adminKey });
    assert.equal(missing.exit?.code, 1);
    assert.match(missing.output, new RegExp(`provider slot gcp \\(the default, it wraps the token signing key\\): its key file ${join(keys, "gcp.key")} is missing`));
    assert.deepEqual(readdirSync(keys).sort(), ["azure.key"], "nothing created, not even the unused slot's file");

    const replaced = randomBytes(32);
    writeFileSync(join(keys, "gcp.key"), replaced);
    const wrong = await expectStartFailure({ database: "pglite", dataDir, adminKey });
    assert.match(wrong.output, new RegExp(`provider slot gcp \\(the default, it wraps the token signing key\\): its key file ${join(keys, "gcp.key")} is not the one`));
    assert.deepEqual(readFileSync(join(keys, "gcp.key")), replaced);
    assert.deepEqual(readdirSync(keys).sort(), ["azure.key", "gcp.key"]);
  });

  test("a slot never used gets a fresh key file, as on a first start", async () => {
    const dataDir = makeTempDir();
    const keys = join(dataDir, "keys");
    const first = await startServer({ database: "pglite", dataDir });
    const adminKey = first.adminKey;
    await first.stop();
    const before = readFileSync(join(keys, "aws.key"));
    rmSync(join(keys, "aws.key"));
    const second = await startServer({ database: "pglite", dataDir, adminKey });
    try {
      assert.ok(existsSync(join(keys, "aws.key")));
      assert.notDeepEqual(readFileSync(join(keys, "aws.key")), before);
      assert.deepEqual(await slotHealth(second.url, adminKey), { gcp: "ok", aws: "ok", azure: "ok" });
      // The fresh key is this database's aws key from now on: an MPC vault works with it.
      const seeded = await seed(second.url, adminKey);
      assertValue(await api(second.url, adminKey).get(`/v1/vaults/${seeded.vaultId}/secrets/db/password`), seeded.value, 1);
    } finally {
      await second.stop();
    }
  });
});

describe("a second instance on the same PostgreSQL", { skip: await postgresSkipReason() }, () => {
  const drops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const drop of drops) await drop();
  });

  test("with other (absent) key files: it names the missing file and creates none; with other present ones: it names the wrong one", async () => {
    const db = await createTestDatabase("keyfiles");
    drops.push(() => db.drop());
    const first = await startServer({ database: "postgres", databaseUrl: db.url });
    try {
      await seed(first.url, first.adminKey);
      const otherKeys = makeTempDir("shardvault-other-keys-");
      const missing = await expectStartFailure({ database: "postgres", databaseUrl: db.url, adminKey: first.adminKey, env: { SHARDVAULT_KEYS_DIR: otherKeys } });
      assert.equal(missing.exit?.code, 1);
      assert.match(missing.output, new RegExp(`provider slot gcp \\(the default, it wraps the token signing key\\): its key file ${join(otherKeys, "gcp.key")} is missing`));
      assert.doesNotMatch(missing.output, /integrity check/);
      assert.deepEqual(readdirSync(otherKeys), [], "no key file created");

      for (const slot of ["gcp", "aws", "azure"]) writeFileSync(join(otherKeys, `${slot}.key`), randomBytes(32), { mode: 0o600 });
      const wrong = await expectStartFailure({ database: "postgres", databaseUrl: db.url, adminKey: first.adminKey, env: { SHARDVAULT_KEYS_DIR: otherKeys } });
      assert.match(wrong.output, new RegExp(`provider slot gcp \\(the default, it wraps the token signing key\\): its key file ${join(otherKeys, "gcp.key")} is not the one`));
      // The first instance is untouched.
      assert.equal((await api(first.url, first.adminKey).get("/v1/vaults")).status, 200);
    } finally {
      await first.stop();
    }
  });
});
