/**
 * Admin recovery: `admin create-key`, run on the server's machine with its settings, issues a new owner API key
 * (shown once, audited as api_key.create via "admin create-key"); `--email` picks the owner. On PGlite it needs
 * the server stopped (one process owns the folder), on PostgreSQL it runs beside it and the key works at once.
 * `shardvault admin create-key` (the CLI, with the server beside it) is the same command.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, childEnv, makeTempDir, REPO_ROOT, runServerCommand, startServer, type ServerHandle } from "./support/harness.js";
import { auditQuery } from "./support/auth-support.js";
import { createTestDatabase, postgresSkipReason, type TestDatabase } from "./support/postgres.js";

const PRINTED_KEY = /^Owner API key \(shown once\): (1ck_[A-Za-z0-9_-]{43})$/m;

function printedKey(stdout: string): string {
  const all = [...stdout.matchAll(new RegExp(PRINTED_KEY.source, "gm"))];
  assert.equal(all.length, 1, stdout);
  return all[0]![1]!;
}

/** Invites `email` as an owner and accepts the invitation. */
async function addOwner(server: ServerHandle, email: string): Promise<void> {
  const invite = await api(server.url, server.adminKey).post("/v1/org/invite", { email, role: "owner" });
  assert.equal(invite.status, 200, invite.text);
  const accepted = await api(server.url).post("/v1/auth/accept-invite", { invite_token: invite.body.invite_token, password: "a long enough password" });
  assert.equal(accepted.status, 200, accepted.text);
}

describe("admin create-key on the embedded database", () => {
  const dataDir = makeTempDir();
  let adminKey: string;
  let firstOwnerId: string;
  before(async () => {
    const server = await startServer({ database: "pglite", dataDir });
    adminKey = server.adminKey;
    firstOwnerId = (await api(server.url, adminKey).get("/v1/auth/me")).body.id;
    await addOwner(server, "second@example.com");
    await server.stop();
  });

  test("while the server runs: refused, the folder is in use", async () => {
    const server = await startServer({ database: "pglite", dataDir, adminKey });
    try {
      const run = await runServerCommand(["admin", "create-key"], { database: "pglite", dataDir });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /data folder .* is in use by another Shardvault process/);
      assert.doesNotMatch(run.stdout, PRINTED_KEY);
    } finally {
      await server.stop();
    }
  });

  test("a new key for the first-start owner, shown once, audited; --email picks another owner; an unknown email is refused", async () => {
    const first = await runServerCommand(["admin", "create-key"], { database: "pglite", dataDir });
    assert.equal(first.code, 0, first.stderr);
    const key = printedKey(first.stdout);
    assert.match(first.stdout, new RegExp(`a new API key for the owner admin \\(user ${firstOwnerId}, key [0-9a-f-]{36}\\)`));

    const second = await runServerCommand(["admin", "create-key", "--email", "SECOND@example.com"], { database: "pglite", dataDir });
    assert.equal(second.code, 0, second.stderr);
    const secondKey = printedKey(second.stdout);

    const unknown = await runServerCommand(["admin", "create-key", "--email", "nobody@example.com"], { database: "pglite", dataDir });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no owner has the email nobody@example\.com/);

    const server = await startServer({ database: "pglite", dataDir, adminKey });
    try {
      const me = await api(server.url, key).get("/v1/auth/me");
      assert.equal(me.status, 200, me.text);
      assert.deepEqual([me.body.id, me.body.role], [firstOwnerId, "owner"]);
      const other = await api(server.url, secondKey).get("/v1/auth/me");
      assert.deepEqual([other.body.email, other.body.role], ["second@example.com", "owner"]);
      const keyId = /key ([0-9a-f-]{36})\)/.exec(first.stdout)![1]!;
      const { events } = await auditQuery(api(server.url, key), { action: "api_key.create", resource_id: keyId });
      assert.equal(events.length, 1);
      assert.equal(events[0]!.actor_id, firstOwnerId);
      assert.equal(events[0]!.details.via, "admin create-key");
      assert.ok(!JSON.stringify(events).includes(key), "the key is not in its audit event");
      await server.stop();
      assertNoLeak(server.output(), [key, secondKey]);
    } finally {
      await server.stop();
    }
  });

  test("`shardvault admin create-key` (the CLI) runs the same command", async () => {
    const cli = spawn(process.execPath, [join(REPO_ROOT, "packages/cli/bin/shardvault.js"), "admin", "create-key"], {
      cwd: REPO_ROOT,
      env: childEnv({ database: "pglite" }, dataDir),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    cli.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise((resolve) => cli.on("close", resolve));
    assert.equal(code, 0, stdout);
    assert.match(stdout, PRINTED_KEY);
  });

  test("a data folder no server has started: refused, saying so", async () => {
    const run = await runServerCommand(["admin", "create-key"], { database: "pglite", dataDir: makeTempDir() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /this database has no organization yet: start the server once/);
  });

  test("usage errors exit 2", async () => {
    for (const args of [["admin", "create-key", "--mail", "x"], ["admin", "delete-everything"], ["backup"]]) {
      const run = await runServerCommand(args, { database: "pglite", dataDir: makeTempDir() });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    }
  });
});

describe("admin create-key beside a running server on PostgreSQL", { skip: await postgresSkipReason() }, () => {
  let database: TestDatabase;
  let server: ServerHandle;
  before(async () => {
    database = await createTestDatabase("adminkey");
    server = await startServer({ database: "postgres", databaseUrl: database.url });
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  test("the new key works on the running server at once", async () => {
    // The server's settings: its database and its key files (the chain key is unwrapped with them).
    const run = await runServerCommand(["admin", "create-key"], { database: "postgres", databaseUrl: database.url, dataDir: server.dataDir });
    assert.equal(run.code, 0, run.stderr);
    const key = printedKey(run.stdout);
    const vaults = await api(server.url, key).get("/v1/vaults");
    assert.equal(vaults.status, 200, vaults.text);
  });
});
