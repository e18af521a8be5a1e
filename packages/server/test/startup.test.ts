/**
 * Start-up as an operator meets it: what the server says, which settings it refuses (and how, without
 * echoing secrets), the admin key on later starts, and a graceful stop (a write in flight when SIGTERM arrives
 * is answered 201 and stored).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { api, makeTempDir, ServerStartError, startServer } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason } from "./support/postgres.js";
import { eventually } from "./support/peers/cloud-suites.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "./support/peers/gcp-kms-peer.js";

const adminKey = () => `1ck_${randomBytes(33).toString("base64url")}`;

async function startFailure(env: Record<string, string>): Promise<ServerStartError> {
  try {
    const server = await startServer({ database: "pglite", env });
    await server.stop();
  } catch (error) {
    assert.ok(error instanceof ServerStartError, String(error));
    return error;
  }
  assert.fail("the server started");
}

describe("start-up", () => {
  test("the embedded default names its database and providers, and warns that they are for development", async () => {
    const server = await startServer({ database: "pglite" });
    await server.stop();
    const output = server.output();
    assert.match(output, /database: embedded PostgreSQL \(PGlite\)/);
    assert.match(output, /key providers: gcp \(local\), aws \(local\), azure \(local\); default: gcp/);
    assert.match(output, /local key providers are for development only/);
    assert.match(output, /holds keys and database together/);
    assert.equal(output.match(/Admin API key \(shown once\): 1ck_/g)?.length, 1);
  });

  test("a HOST that is not loopback needs TLS, here or upstream", async () => {
    const failure = await startFailure({ HOST: "0.0.0.0" });
    assert.equal(failure.exit?.code, 1);
    assert.match(failure.output, /SHARDVAULT_TLS_CERT and SHARDVAULT_TLS_KEY, or SHARDVAULT_TLS_TERMINATED_UPSTREAM=1/);
  });

  test("a malformed SHARDVAULT_ADMIN_API_KEY stops start-up without repeating the key", async () => {
    const bad = "1ck_tooShortButSecret";
    const failure = await startFailure({ SHARDVAULT_ADMIN_API_KEY: bad });
    assert.equal(failure.exit?.code, 1);
    assert.match(failure.output, /SHARDVAULT_ADMIN_API_KEY must be 1ck_ followed by at least 43 base64url characters/);
    assert.ok(!failure.output.includes(bad));
  });

  test("the admin key: set on first start, a no-op when it matches later, ignored with a warning when not", async () => {
    const dataDir = makeTempDir();
    const first = adminKey();
    const s1 = await startServer({ database: "pglite", dataDir, env: { SHARDVAULT_ADMIN_API_KEY: first } });
    assert.equal((await api(s1.url, first).get("/v1/vaults")).status, 200);
    await s1.stop();
    assert.ok(!s1.output().includes(first), "a key the operator chose is not printed");

    const s2 = await startServer({ database: "pglite", dataDir, env: { SHARDVAULT_ADMIN_API_KEY: first } });
    await s2.stop();
    assert.doesNotMatch(s2.output(), /WARNING: SHARDVAULT_ADMIN_API_KEY/);

    const other = adminKey();
    const s3 = await startServer({ database: "pglite", dataDir, env: { SHARDVAULT_ADMIN_API_KEY: other } });
    assert.equal((await api(s3.url, other).get("/v1/vaults")).status, 401, "never a second admin key");
    assert.equal((await api(s3.url, first).get("/v1/vaults")).status, 200);
    await s3.stop();
    assert.match(s3.output(), /SHARDVAULT_ADMIN_API_KEY differs from the admin key created at first start; it is ignored/);
    assert.ok(!s3.output().includes(other));
  });

  test("SIGTERM: a request in flight is finished and stored, then the server closes the database and exits 0", async () => {
    // The default slot on a wire peer that holds requests: the write is inside the server, waiting for its key
    // provider, when the signal arrives.
    const peer = await startGcpKmsPeer();
    try {
      const slot = gcpKmsSlotConfig(peer);
      const config = join(makeTempDir("shardvault-sigterm-"), "shardvault.json");
      writeFileSync(config, JSON.stringify({ default_provider: "gcp", deadline_ms: 600_000, providers: { gcp: { backend: "gcp-kms", ...slot.fields } } }));
      const env = { SHARDVAULT_CONFIG: config, ...slot.env };
      const server = await startServer({ database: "pglite", env });
      const admin = api(server.url, server.adminKey);
      const vault = await admin.post("/v1/vaults", { name: "sigterm" });
      assert.equal(vault.status, 201, vault.text);

      await peer.fault({ hold: true });
      const encrypts = peer.count("Encrypt");
      const inFlight = admin.put(`/v1/vaults/${vault.body.id}/secrets/during/stop`, { value: "written while stopping" });
      await eventually(() => peer.count("Encrypt") > encrypts, "the write reached its key provider");
      server.process.kill("SIGTERM");
      await eventually(() => /SIGTERM received: finishing in-flight requests/.test(server.output()), "the server began closing");
      assert.equal(server.process.exitCode, null, "the server exited with a request in flight");
      peer.release();
      const written = await inFlight;
      assert.equal(written.status, 201, written.text);
      assert.equal(written.body.version, 1);
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(server.output(), /\] stopped\s*$/m);

      const again = await startServer({ database: "pglite", dataDir: server.dataDir, adminKey: server.adminKey, env });
      try {
        const read = await api(again.url, again.adminKey).get(`/v1/vaults/${vault.body.id}/secrets/during/stop`);
        assert.equal(read.status, 200, read.text);
        assert.equal(read.body.value, "written while stopping");
      } finally {
        await again.stop();
      }
    } finally {
      await peer.stop();
    }
  });
});

describe("start-up on PostgreSQL", { skip: await postgresSkipReason() }, () => {
  const drops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const drop of drops) await drop();
  });

  test("the password in DATABASE_URL is never printed", async () => {
    const db = await createTestDatabase("pw");
    drops.push(() => db.drop());
    const url = new URL(db.url);
    url.password = "s3cret-database-password"; // trust auth accepts any password
    const server = await startServer({ database: "postgres", databaseUrl: url.toString() });
    await server.stop();
    assert.match(server.output(), /database: PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    assert.ok(!server.output().includes("s3cret-database-password"));
  });
});
