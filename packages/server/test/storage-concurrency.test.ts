/**
 * Several instances on one PostgreSQL database: they migrate and bootstrap under one advisory lock when they
 * start at the same time, and concurrent writes to one path spread over them get versions 1..N, each once.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, provisionLocalKeys, secretValue, SHOWN_ONCE, startServer, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason, withClient, type TestDatabase } from "./support/postgres.js";

const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, "gm")) ?? []).length;

describe("storage-concurrency on postgres", { skip: await postgresSkipReason() }, () => {
  const databases: TestDatabase[] = [];
  const servers: ServerHandle[] = [];
  const secrets: string[] = [];

  after(async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await Promise.all(databases.map((d) => d.drop()));
  });

  /**
   * Two instances on `db`, started at the same moment. Instances of one deployment share their key providers:
   * here the local providers' key files, provisioned beforehand and named by SHARDVAULT_KEYS_DIR.
   */
  async function startPair(db: TestDatabase, extra: Record<string, string> = {}): Promise<[ServerHandle, ServerHandle]> {
    const env = { SHARDVAULT_KEYS_DIR: provisionLocalKeys(), ...extra };
    const started = await Promise.allSettled([
      startServer({ database: "postgres", databaseUrl: db.url, env }),
      startServer({ database: "postgres", databaseUrl: db.url, env }),
    ]);
    for (const s of started) if (s.status === "fulfilled") servers.push(s.value);
    const failed = started.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    assert.equal(failed.length, 0, `an instance did not start: ${failed.map((f) => String(f.reason)).join("\n")}`);
    return [(started[0] as PromiseFulfilledResult<ServerHandle>).value, (started[1] as PromiseFulfilledResult<ServerHandle>).value];
  }

  describe("two instances started at once with SHARDVAULT_ADMIN_API_KEY", () => {
    let db: TestDatabase;
    let a: ServerHandle;
    let b: ServerHandle;
    const adminKey = `1ck_${randomBytes(33).toString("base64url")}`;

    before(async () => {
      db = await createTestDatabase("conc");
      databases.push(db);
      secrets.push(adminKey);
      [a, b] = await startPair(db, { SHARDVAULT_ADMIN_API_KEY: adminKey });
    });

    test("both come up; migrations and bootstrap ran once; no key printed; one API key row", async () => {
      const both = a.output() + b.output();
      assert.equal(count(both, /^\[shardvault\] applied migrations: /), 1, both);
      assert.equal(count(both, /^\[shardvault\] Admin API key set from SHARDVAULT_ADMIN_API_KEY$/), 1, both);
      assert.equal(count(both, SHOWN_ONCE), 0, "a configured admin key is never printed");
      await withClient(db.url, async (c) => {
        assert.equal((await c.query("SELECT count(*)::int AS n FROM api_keys")).rows[0].n, 1);
        assert.equal((await c.query("SELECT count(*)::int AS n FROM organizations")).rows[0].n, 1);
        assert.equal((await c.query("SELECT count(*)::int AS n FROM users")).rows[0].n, 1);
        assert.equal((await c.query("SELECT count(*)::int AS n FROM bootstrap")).rows[0].n, 1);
        const migrations = (await c.query("SELECT name FROM schema_migrations ORDER BY name")).rows.map((r) => r.name);
        assert.equal(new Set(migrations).size, migrations.length);
        assert.ok(migrations.length >= 1);
      });
      for (const server of [a, b]) {
        const res = await api(server.url, adminKey).get("/v1/vaults");
        assert.equal(res.status, 200, res.text);
      }
    });

    test("50 concurrent PUTs to one path over both instances: versions exactly 1..50", async () => {
      const created = await api(a.url, adminKey).post("/v1/vaults", { name: "concurrency" });
      assert.equal(created.status, 201, created.text);
      const vaultId = created.body.id as string;
      // The vault made on one instance is visible on the other.
      assert.equal((await api(b.url, adminKey).get(`/v1/vaults/${vaultId}`)).status, 200);

      const path = "hot/path";
      const values = Array.from({ length: 50 }, (_, i) => secretValue(`c${i}`));
      secrets.push(...values);
      const answers = await Promise.all(
        values.map((value, i) => api((i % 2 === 0 ? a : b).url, adminKey).put(`/v1/vaults/${vaultId}/secrets/${path}`, { value })),
      );
      for (const res of answers) assert.equal(res.status, 201, res.text);
      const versions = answers.map((r) => r.body.version as number);
      assert.deepEqual([...versions].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 1), "each version exactly once");

      for (const server of [a, b]) {
        const listed = await api(server.url, adminKey).get(`/v1/vaults/${vaultId}/secret-versions/${path}`);
        assert.equal(listed.status, 200);
        assert.deepEqual(
          listed.body.versions.map((m: { version: number }) => m.version),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
      }
      await withClient(db.url, async (c) => {
        const rows = (
          await c.query("SELECT version FROM secret_versions WHERE vault_id = $1 AND path = $2 ORDER BY version", [vaultId, path])
        ).rows.map((r) => r.version);
        assert.deepEqual(rows, Array.from({ length: 50 }, (_, i) => i + 1));
        const counter = await c.query("SELECT last_version FROM secret_paths WHERE vault_id = $1 AND path = $2", [vaultId, path]);
        assert.equal(counter.rows[0].last_version, 50);
      });

      // Each version holds the value whose PUT was answered with that number, whichever instance reads it.
      const byVersion = new Map(answers.map((r, i) => [r.body.version as number, values[i]!]));
      const reads = await Promise.all(
        [...byVersion.keys()].map((v, i) => api((i % 2 === 0 ? b : a).url, adminKey).get(`/v1/vaults/${vaultId}/secrets/${path}?version=${v}`)),
      );
      for (const [i, v] of [...byVersion.keys()].entries()) {
        assert.equal(reads[i]!.status, 200, reads[i]!.text);
        assert.equal(reads[i]!.body.value, byVersion.get(v), `version ${v}`);
      }
      const latest = await api(b.url, adminKey).get(`/v1/vaults/${vaultId}/secrets/${path}`);
      assert.equal(latest.body.version, 50);
      assert.equal(latest.body.value, byVersion.get(50));
    });

    test("the outputs of both instances hold no secret and no API key", async () => {
      for (const server of [a, b]) {
        const exit = await server.stop();
        assert.equal(exit.code, 0, server.output());
        assertNoLeak(server.output(), secrets);
      }
    });
  });

  describe("two instances started at once without a configured admin key", () => {
    test("exactly one admin key is created and printed, across both outputs; it works on both", async () => {
      const db = await createTestDatabase("conc2");
      databases.push(db);
      const [a, b] = await startPair(db);
      const printed = [...a.output().matchAll(SHOWN_ONCE), ...b.output().matchAll(SHOWN_ONCE)].map((m) => m[1]!);
      assert.equal(printed.length, 1, a.output() + b.output());
      const key = printed[0]!;
      secrets.push(key);
      await withClient(db.url, async (c) => {
        assert.equal((await c.query("SELECT count(*)::int AS n FROM api_keys")).rows[0].n, 1);
        assert.equal((await c.query("SELECT count(*)::int AS n FROM organizations")).rows[0].n, 1);
      });
      for (const server of [a, b]) assert.equal((await api(server.url, key).get("/v1/vaults")).status, 200);
      for (const server of [a, b]) {
        await server.stop();
        assertNoLeak(server.output(), secrets);
      }
    });
  });
});
