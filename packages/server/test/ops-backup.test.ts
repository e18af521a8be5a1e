/**
 * Backup and restore, as the README's procedure does it: `backup --out DIR` (pg_dump, or PGlite's dump with the
 * server stopped) and its inventory of the key material each slot needs; the original database dropped; the
 * dump restored into a fresh database (pg_restore, or the tarball unpacked into a new data folder) with the key
 * files copied back from where the operator keeps them; then every version of every secret of every custody
 * mode reads back its value (client-custody ones with their clients' shares). The inventory names the key files
 * and holds no key.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, DATABASE_KINDS, DEV_SLOTS, makeTempDir, runServerCommand, secretValue, startServer, type Api, type DatabaseKind, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, deploy, skipReasonFor, type Deployment, type TestDatabase } from "./support/postgres.js";

const MODES = [undefined, "2of2_client_custody", "2of3_multi_hsm", "2of3_client_custody", "2of3_client_required"] as const;

interface Written {
  vaultId: string;
  mode: string;
  path: string;
  version: number;
  value: string;
  share?: string;
}

async function writeEveryMode(admin: Api): Promise<Written[]> {
  const written: Written[] = [];
  for (const mode of MODES) {
    const vault = await admin.post("/v1/vaults", { name: `backup-${mode ?? "plain"}`, ...(mode ? { mpc_custody: mode } : {}) });
    assert.equal(vault.status, 201, vault.text);
    for (const path of ["db/password", "db/password", "api/key"]) {
      const value = secretValue(mode ?? "plain");
      const res = await admin.put(`/v1/vaults/${vault.body.id}/secrets/${path}`, { value });
      assert.equal(res.status, 201, res.text);
      written.push({ vaultId: vault.body.id, mode: mode ?? "plain", path, version: res.body.version, value, ...(res.body.client_share ? { share: res.body.client_share } : {}) });
    }
  }
  return written;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
}

for (const kind of DATABASE_KINDS) {
  describe(`backup and restore on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let written: Written[];
    let adminKey: string;
    let keyFiles: Buffer[];
    const backupDir = join(makeTempDir("shardvault-backup-"), "backup");
    const keptKeys = makeTempDir("shardvault-kept-keys-");
    let restoredDb: TestDatabase | undefined;
    let restored: ServerHandle | undefined;

    before(async () => {
      deployment = await deploy(kind);
      adminKey = deployment.server.adminKey;
      written = await writeEveryMode(api(deployment.server.url, adminKey));
      // The operator keeps the key files apart from the backups.
      cpSync(join(deployment.server.dataDir, "keys"), keptKeys, { recursive: true });
      keyFiles = DEV_SLOTS.map((slot) => readFileSync(join(keptKeys, `${slot}.key`)));
    });
    after(async () => {
      await restored?.stop();
      await restoredDb?.drop();
      await deployment?.dispose();
    });

    if (kind === "pglite") {
      test("the embedded database is backed up only with the server stopped", async () => {
        const refused = await runServerCommand(["backup", "--out", join(makeTempDir(), "b")], { database: "pglite", dataDir: deployment.server.dataDir });
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /is in use by another Shardvault process/);
      });
    }

    test("backup: the dump and an inventory naming each slot's key file and KEKs, holding no key and no value", async () => {
      if (kind === "pglite") await deployment.server.stop();
      const backup = await runServerCommand(["backup", "--out", backupDir], {
        database: kind,
        dataDir: deployment.server.dataDir,
        ...(deployment.database ? { databaseUrl: deployment.database.url } : {}),
      });
      assert.equal(backup.code, 0, backup.stderr);
      const dumpFile = kind === "postgres" ? "database.pgdump" : "pglite-data.tar.gz";
      assert.deepEqual(readdirSync(backupDir).sort(), [dumpFile, "inventory.json"].sort());
      assert.match(backup.stdout, new RegExp(`backup in ${backupDir}: ${dumpFile.replace(".", "\\.")} \\(${kind}\\) and inventory\\.json`));

      const text = readFileSync(join(backupDir, "inventory.json"), "utf8");
      const inventory = JSON.parse(text);
      assert.deepEqual(inventory.database, { kind, file: dumpFile });
      assert.deepEqual(inventory.slots.map((s: { slot: string }) => s.slot), [...DEV_SLOTS]);
      const plainVersions = written.filter((w) => w.mode === "plain").length;
      const mpcVersions = (mode: string) => written.filter((w) => w.mode === mode).length;
      for (const slot of inventory.slots) {
        assert.equal(slot.configured, true);
        assert.equal(slot.backend, "local");
        assert.match(slot.key_material, new RegExp(`the key file ${join(deployment.server.dataDir, "keys", `${slot.slot}.key`)} \\(not in this backup`));
        assert.match(String(slot.key_check), /^[0-9a-f]{16,}$/);
        assert.ok(slot.kek_ids.length > 0, `${slot.slot} KEKs`);
      }
      const gcp = inventory.slots.find((s: { slot: string }) => s.slot === "gcp");
      assert.equal(gcp.default, true);
      // gcp wraps the plain vault's DEKs, the signing key and the audit chain key, and holds a share in every MPC mode.
      assert.deepEqual(gcp.holds, {
        plain_versions: plainVersions,
        mpc_shares: MODES.reduce((sum, mode) => sum + (mode ? mpcVersions(mode) : 0), 0),
        signing_keys: 1,
        audit_chain_keys: 1,
      });
      assert.equal(inventory.outside_the_server.client_custody_versions, written.filter((w) => w.share).length);

      for (const key of keyFiles) {
        for (const form of [key.toString("hex"), key.toString("base64"), key.toString("base64url")]) assert.ok(!text.includes(form), "a key file's bytes are in the inventory");
      }
      for (const w of written) assert.ok(!text.includes(w.value));
    });

    test("restore into a fresh database, key files copied back: every version of every mode reads its value", async () => {
      // The original is gone.
      await deployment.dispose();
      const dataDir = makeTempDir();
      cpSync(keptKeys, join(dataDir, "keys"), { recursive: true });
      if (kind === "postgres") {
        restoredDb = await createTestDatabase("restored");
        run("pg_restore", ["--no-owner", "--no-privileges", `--dbname=${restoredDb.url}`, join(backupDir, "database.pgdump")]);
      } else {
        rmSync(deployment.server.dataDir, { recursive: true, force: true });
        mkdirSync(join(dataDir, "pgdata"));
        run("tar", ["-xzf", join(backupDir, "pglite-data.tar.gz"), "-C", join(dataDir, "pgdata")]);
      }
      restored = await startServer({ database: kind, dataDir, adminKey, ...(restoredDb ? { databaseUrl: restoredDb.url } : {}) });
      assert.ok(existsSync(join(dataDir, "keys", "gcp.key")));
      assert.doesNotMatch(restored.output(), /unavailable/, "every slot found its key file");
      const admin = api(restored.url, adminKey);
      for (const w of written) {
        const res = await admin.get(`/v1/vaults/${w.vaultId}/secrets/${w.path}?version=${w.version}`, w.share ? { headers: { "x-client-share": w.share } } : {});
        assert.equal(res.status, 200, `${w.mode} ${w.path} v${w.version}: ${res.text}`);
        assert.equal(res.body.value, w.value, `${w.mode} ${w.path} v${w.version}`);
      }
      assert.equal(new Set(written.map((w) => w.mode)).size, MODES.length, "every custody mode, and plain, was read");
      // A new write on the restored data continues the version numbers.
      const next = await admin.put(`/v1/vaults/${written[0]!.vaultId}/secrets/db/password`, { value: "after the restore" });
      assert.equal(next.body.version, 3);
    });
  });
}
