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
 *
 * And in process, start-up's providers (config/key-files.ts buildCheckedProviders) on an embedded database, a
 * slot counting as used once a token signing key is wrapped there (any key material of it in the database does):
 * a lost or swapped key file leaves the slot unavailable and refusing every call, with nothing created in its
 * place, a slot never used on the same file included; the right file put back, the slot's data opens again; a
 * used slot without a check value (a database from before migration 095) gets one from the file it has.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { addSigningKey, ensureSigningKey, loadSigningKeys } from "../src/auth/signing-keys.js";
import type { Database } from "../src/db/database.js";
import { loadDeployment, type Deployment } from "../src/config/deployment.js";
import { readSettings } from "../src/config/env.js";
import { buildCheckedProviders } from "../src/config/key-files.js";
import { keyFileCheck } from "../src/providers/local.js";
import { ProviderError, type KeyProvider } from "../src/providers/provider.js";
import type { ProviderRegistry } from "../src/providers/registry.js";
import { api, makeTempDir, expectStartFailure, startServer } from "./support/harness.js";
import { memoryLogger, openTestDatabase } from "./support/in-process.js";
import { assertValue, createVault, mode, putSecret, writeLocalConfig } from "./support/mpc-support.js";
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

describe("start-up's providers, in process: key files checked against the database", () => {
  /** gcp (the default), aws and azure, each on its own key file, and `twin` on aws's (allowed: a shared trust domain). */
  const config = writeLocalConfig(["gcp", "aws", "azure"], { allow_shared_trust_domain: true }, makeTempDir("sv-keyfiles-"), { twin: "aws" });
  const file = (slot: string) => config.keyFiles[slot]!;
  const env = { SHARDVAULT_CONFIG: config.path, SHARDVAULT_DATA_DIR: config.dir };
  const log = memoryLogger();
  const deployment: Deployment = loadDeployment(readSettings(env), env, log);
  let db: Database;
  let closeDb: () => Promise<void>;
  let providers: ProviderRegistry | undefined;
  /** aws's key file as its first use left it, and the signing key wrapped there. */
  let awsKey: Buffer;
  let awsKid: string;

  /** A start's providers, the previous start's closed first. */
  async function start(): Promise<ProviderRegistry> {
    await Promise.all(providers?.all().map((p) => p.close()) ?? []);
    providers = (await buildCheckedProviders(db, deployment, { env, log })).registry;
    return providers;
  }

  const refusedBy = (slot: string, why: RegExp) => (e: unknown) => e instanceof ProviderError && e.slot === slot && why.test(e.message);

  /** Every call of the provider is refused for `why`, and its health says unavailable for it. */
  async function assertRefusesEverything(provider: KeyProvider, why: RegExp): Promise<void> {
    const health = await provider.health();
    assert.equal(health.status, "unavailable");
    assert.match(health.detail!, why);
    const [row] = await db.query<{ kek_id: string; wrapped_private_key: Uint8Array }>("SELECT kek_id, wrapped_private_key FROM signing_keys WHERE kid = $1", [awsKid]);
    const aad = Buffer.from("any binding: the call is refused before it is looked at");
    await assert.rejects(provider.unwrap(row!.kek_id, row!.wrapped_private_key, aad), refusedBy(provider.slot, why));
    await assert.rejects(provider.wrap(row!.kek_id, Buffer.from("dek"), aad), refusedBy(provider.slot, why));
    await assert.rejects(provider.createKek("v"), refusedBy(provider.slot, why));
    await assert.rejects(provider.disableKek!(row!.kek_id), refusedBy(provider.slot, why));
  }

  /** aws's data opens: its signing key, the newest, unwraps. */
  async function assertAwsDataOpens(registry: ProviderRegistry): Promise<void> {
    assert.equal((await registry.get("aws")!.health()).status, "ok");
    assert.equal((await loadSigningKeys(db, registry)).current.kid, awsKid);
  }

  before(async () => {
    ({ db, close: closeDb } = await openTestDatabase("pglite", "keyfiles"));
    const first = await start();
    await ensureSigningKey(db, first.get("gcp")!);
    // aws's first use.
    awsKid = await addSigningKey(db, first.get("aws")!);
    awsKey = readFileSync(file("aws"));
  });

  after(async () => {
    await Promise.all(providers?.all().map((p) => p.close()) ?? []);
    await closeDb?.();
  });

  test("a key file deleted after the slot's first use is not replaced: the slot reports unavailable and refuses every call", async () => {
    rmSync(file("aws"));
    const lost = await start();
    assert.equal(existsSync(file("aws")), false, "a fresh key was made in place of the destroyed one (by aws or by twin, on the same file)");
    const missing = new RegExp(`its key file ${file("aws")} is missing`);
    await assertRefusesEverything(lost.get("aws")!, missing);
    await assertRefusesEverything(lost.get("twin")!, missing);
    for (const slot of ["gcp", "azure"]) assert.equal((await lost.get(slot)!.health()).status, "ok", slot);

    writeFileSync(file("aws"), awsKey, { mode: 0o600 });
    await assertAwsDataOpens(await start());
  });

  test("a key file swapped for another key is not used; a key file from before key check values gets one", async () => {
    const other = randomBytes(32);
    writeFileSync(file("aws"), other);
    const swapped = await start();
    await assertRefusesEverything(swapped.get("aws")!, new RegExp(`its key file ${file("aws")} is not the one this database's aws key material was made with`));
    assert.deepEqual(readFileSync(file("aws")), other, "the file is left as it is");

    // A database from before migration 095 has no check value: the file present is taken as the slot's, and its
    // check value recorded, so that a swap is told from then on.
    writeFileSync(file("aws"), awsKey);
    await db.query("DELETE FROM provider_key_checks WHERE slot IN ('aws', 'twin')");
    await assertAwsDataOpens(await start());
    const [recorded] = await db.query<{ key_check: Uint8Array }>("SELECT key_check FROM provider_key_checks WHERE slot = 'aws'");
    assert.deepEqual(Buffer.from(recorded!.key_check), Buffer.from(keyFileCheck(file("aws"))));
    writeFileSync(file("aws"), other);
    assert.equal((await (await start()).get("aws")!.health()).status, "unavailable");
    writeFileSync(file("aws"), awsKey);
    await assertAwsDataOpens(await start());
  });
});
