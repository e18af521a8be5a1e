/**
 * Start-up as an operator meets it: what the server says, which settings it refuses (and how, without
 * echoing secrets), the admin key on later starts, and a graceful stop (a write in flight when SIGTERM arrives
 * is answered 201 and stored).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { spawn } from "node:child_process";
import { api, childEnv, expectStartFailure, makeTempDir, REPO_ROOT, type ServerStartError, SHOWN_ONCE, startServer, type StartOptions } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason } from "./support/postgres.js";
import { eventually } from "./support/peers/cloud-suites.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "./support/peers/gcp-kms-peer.js";

const adminKey = () => `1ck_${randomBytes(33).toString("base64url")}`;

const startFailure = (env: Record<string, string>, opts: Partial<StartOptions> = {}) => expectStartFailure({ database: "pglite", env, ...opts });

describe("start-up", () => {
  test("the embedded default names its database and providers, and warns that they are for development", async () => {
    const server = await startServer({ database: "pglite" });
    await server.stop();
    const output = server.output();
    assert.match(output, /database: embedded PostgreSQL \(PGlite\)/);
    assert.match(output, new RegExp(`^\\[shardvault\\] dashboard: ${server.url}/$`, "m"), "the dashboard's URL is said at start-up");
    assert.match(output, /key providers: gcp \(local\), aws \(local\), azure \(local\); default: gcp/);
    assert.match(output, /no SHARDVAULT_CONFIG: the local key providers \(gcp, aws, azure\) are for development only/);
    assert.match(output, /a copy of \S+ holds keys and database together and decrypts every secret/);
    assert.equal(output.match(/Admin API key \(shown once\): 1ck_/g)?.length, 1);
  });

  test("local slots from a config file: the development warning names them; a relative key_file is under the config file's folder", async () => {
    const configDir = makeTempDir("shardvault-config-");
    const config = join(configDir, "shardvault.json");
    writeFileSync(config, JSON.stringify({ providers: { dev: { backend: "local", key_file: "keys/dev.key" } } }));
    const server = await startServer({ database: "pglite", env: { SHARDVAULT_CONFIG: config } });
    await server.stop();
    const output = server.output();
    assert.ok(existsSync(join(configDir, "keys/dev.key")), "the key file is resolved against the config file's folder");
    assert.match(output, new RegExp(`the local key providers \\(dev\\) are for development only: their keys are plain files \\(${join(configDir, "keys/dev.key")}\\)`));
    assert.doesNotMatch(output, /no SHARDVAULT_CONFIG/);
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

  test("a port already in use: no admin key is created or printed; the next start on a free port shows one that works", async () => {
    const dataDir = makeTempDir();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    let failure: ServerStartError;
    try {
      failure = await startFailure({ PORT: String(port) }, { dataDir });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    assert.equal(failure.exit?.code, 1);
    assert.match(failure.output, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    assert.doesNotMatch(failure.output, SHOWN_ONCE, "a key printed by a start that then failed is a key nobody kept");

    const server = await startServer({ database: "pglite", dataDir });
    assert.equal((await api(server.url, server.adminKey).get("/v1/vaults")).status, 200);
    await server.stop();
    assert.equal(server.output().match(SHOWN_ONCE)?.length, 1);
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
      // Else its keep-alive connection would hold the stop for the keep-alive timeout (72 s).
      assert.equal(written.headers.get("connection"), "close", "the answer in flight closes its connection");
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(server.output(), /^\{.*"msg":"stopped"\}$/m);

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

describe("npm start", () => {
  test("SIGTERM to npm's own process stops the server gracefully (npm passes it on; the script execs node)", async () => {
    const npm = spawn("npm", ["start"], { cwd: REPO_ROOT, env: childEnv({ database: "pglite" }, makeTempDir()), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    npm.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => npm.on("exit", () => resolve()));
    // npm's children (the server, or a shell holding it): killed at the end should the server outlive npm.
    let children: number[] = [];
    try {
      await eventually(() => /listening on http:/.test(output), "the server listens", 60_000);
      const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
      assert.equal((await api(url).get("/v1/health")).status, 200);
      children = readFileSync(`/proc/${npm.pid}/task/${npm.pid}/children`, "utf8").trim().split(/\s+/).map(Number);
      npm.kill("SIGTERM");
      await exited;
      await eventually(() => /"msg":"stopped"/.test(output), "the server stopped", 30_000);
      assert.match(output, /"msg":"SIGTERM received: finishing in-flight requests"/);
      await assert.rejects(fetch(`${url}/v1/health`), "nothing listens any more");
    } finally {
      for (const pid of children) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone, as it should be
        }
      }
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

  test("with DATABASE_URL the warning does not claim the data folder holds the database", async () => {
    const db = await createTestDatabase("warn");
    drops.push(() => db.drop());
    const server = await startServer({ database: "postgres", databaseUrl: db.url });
    await server.stop();
    assert.match(server.output(), /local key providers \(gcp, aws, azure\) are for development only/);
    assert.match(server.output(), /whoever has these key files and a copy of the database decrypts every secret/);
    assert.doesNotMatch(server.output(), /holds keys and database together/);
  });
});
