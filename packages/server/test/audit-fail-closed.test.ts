/**
 * The audit log fails closed: when an event cannot be stored, the request it records fails.
 *
 * - Group commit, driven by hand on a real embedded PostgreSQL (PGlite, the migrated schema): events recorded
 *   while a batch is being written go together in the next INSERT; when the database refuses that INSERT (a
 *   trigger raising for one of its events), every caller of the batch is refused and none of its events is
 *   stored; the events of other batches are unaffected, and the log keeps working afterwards.
 * - Over HTTP, on PGlite and on PostgreSQL, with a trigger on `audit_events` refusing the events of paths under
 *   `audit-fail/`: reads of those paths, fired together (batched), all fail with 500 internal_error and no value;
 *   a refused read whose refusal cannot be recorded fails the same way; a write fails and commits nothing (no
 *   version row, no share row: the event is stored by the write's own statement); other paths keep working, and once
 *   the trigger is gone so do these.
 */
import assert from "node:assert/strict";
import { createSecretKey, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createAuditLog, type AuditEntry } from "../src/audit/audit.js";
import type { Principal } from "../src/auth/principal.js";
import type { Database, Queryable } from "../src/db/database.js";
import { migrate } from "../src/db/migrate.js";
import { openPglite } from "../src/db/pglite.js";
import { onDatabase } from "./support/auth-support.js";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, makeTempDir, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { createVault, mode, putSecret, secretUrl } from "./support/mpc-support.js";

/** Refuses (raises on) every audit event whose details name a path under `audit-fail/`. */
const REFUSE_AUDIT = [
  `CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF NEW.details->>'path' LIKE 'audit-fail/%' OR NEW.resource_id = 'poison' THEN
       RAISE EXCEPTION 'audit event refused by the test';
     END IF;
     RETURN NEW;
   END $$`,
  "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()",
];
const ALLOW_AUDIT = ["DROP TRIGGER test_refuse_audit ON audit_events", "DROP FUNCTION test_refuse_audit()"];

describe("audit group commit fails closed per batch (PGlite, driven by hand)", () => {
  let db: Database;
  /** The audit log's view of the database: its INSERTs are counted, and the first one waits for `release`. */
  let gated: Database;
  let inserts = 0;
  /** Whether the gate counts and holds INSERTs (not while the log learns its chain head). */
  let armed = false;
  let release!: () => void;
  let firstInsertStarted!: Promise<void>;

  before(async () => {
    db = await openPglite(makeTempDir("shardvault-audit-batch-"));
    await migrate(db);
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    firstInsertStarted = new Promise<void>((resolve) => (started = resolve));
    // Every statement that stores events (the chained append inserts them inside a WITH) goes through the gate,
    // inside transactions too.
    const through = (q: Queryable): Queryable => ({
      async query<T>(sql: string, params?: readonly unknown[]) {
        if (armed && /INSERT INTO audit_events/.test(sql) && inserts++ === 0) {
          started();
          await gate;
        }
        return q.query<T>(sql, params);
      },
    });
    gated = { ...through(db), transaction: (fn) => db.transaction((tx) => fn(through(tx))) } as Pick<Database, "query" | "transaction"> as Database;
  });
  after(async () => {
    await db?.close();
  });

  const actor: Principal = { type: "user", id: randomUUID(), orgId: randomUUID() };
  const entry = (resourceId: string): AuditEntry => ({ action: "secret.read", resourceType: "secret", resourceId });
  const stored = async () => (await db.query<{ resource_id: string }>("SELECT resource_id FROM audit_events ORDER BY resource_id")).map((r) => r.resource_id);

  test("a refused INSERT refuses every event of its batch, and only those; the log keeps working", async () => {
    const log = createAuditLog(gated, { key: createSecretKey(randomBytes(32)) });
    // The log's first append locks the chain head in a transaction (PGlite has one connection: a held gate there
    // would hold the test's own statements too); once the log knows the head, each batch is one statement.
    await log.record(actor, entry("primer"));
    armed = true;
    const outcome = (p: Promise<void>) => p.then(() => "stored", (e: Error) => `refused: ${e.message}`);
    const first = outcome(log.record(actor, entry("first")));
    await firstInsertStarted;
    // While the first batch is being written, three more events arrive: they form the next batch together.
    for (const sql of REFUSE_AUDIT) await db.query(sql);
    const batch = [outcome(log.record(actor, entry("second"))), outcome(log.record(actor, entry("poison"))), outcome(log.record(actor, entry("third")))];
    release();
    assert.equal(await first, "stored");
    assert.deepEqual(await Promise.all(batch), Array(3).fill("refused: audit event refused by the test"));
    assert.equal(inserts, 2, "the three waiting events were not written as one batch");
    assert.deepEqual(await stored(), ["first", "primer"], "an event of the refused batch was stored");

    assert.equal(await outcome(log.record(actor, entry("after"))), "stored");
    assert.deepEqual(await stored(), ["after", "first", "primer"]);
    for (const sql of ALLOW_AUDIT) await db.query(sql);
  });
});

for (const kind of DATABASE_KINDS) {
  describe(`audit fails closed over HTTP on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    let vaultId: string;
    const sensitive: string[] = [];
    const values = new Map<string, string>();
    const m = mode("2of3_multi_hsm");

    /** Runs SQL on the deployment's database (PGlite: with the server stopped, then restarted). */
    async function sql(statements: string[]): Promise<void> {
      await onDatabase(deployment, async (db) => {
        for (const statement of statements) await db.query(statement);
      });
      if (kind === "pglite") {
        const server = await deployment.restart();
        admin = api(server.url, server.adminKey);
      }
    }

    const rows = (path: string) =>
      onDatabase(deployment, async (db) => {
        const versions = await db.query("SELECT count(*)::int AS n FROM secret_versions WHERE vault_id = $1 AND path = $2", [vaultId, path]);
        const shares = await db.query(
          "SELECT count(*)::int AS n FROM secret_dek_shares s JOIN secret_versions v ON v.id = s.version_id WHERE v.vault_id = $1 AND v.path = $2",
          [vaultId, path],
        );
        return { versions: versions.rows[0].n as number, shares: shares.rows[0].n as number };
      });

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      vaultId = (await createVault(admin, "audit fails closed", { custody_mode: m.name })).id;
      for (const path of ["audit-fail/a", "audit-fail/b", "audit-fail/c", "audit-fail/d", "ok/x"]) {
        const value = secretValue(path);
        sensitive.push(value);
        values.set(path, value);
        await putSecret(admin, vaultId, path, value, m);
      }
      await sql(REFUSE_AUDIT);
    });
    after(async () => {
      await deployment?.dispose();
    });

    test("reads whose events cannot be stored, fired together, all fail with 500 and no value", async () => {
      const paths = ["audit-fail/a", "audit-fail/b", "audit-fail/c", "audit-fail/d"];
      const answers = await Promise.all([...paths, ...paths].map((path) => admin.get(secretUrl(vaultId, path))));
      answers.forEach((res, i) => {
        assertProblem(res, 500, "internal_error", undefined, `read #${i}`);
        for (const value of values.values()) assert.ok(!res.text.includes(value), `read #${i} answered a value`);
      });
      // A refused read must be recorded as well: when it cannot be, the caller gets no answer but the failure.
      assertProblem(await admin.get(secretUrl(vaultId, "audit-fail/missing")), 500, "internal_error");
      // Reads of other paths are recorded and answered.
      const ok = await admin.get(secretUrl(vaultId, "ok/x"));
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.value, values.get("ok/x"));
    });

    test("a write whose event cannot be stored fails and commits nothing", async () => {
      const value = secretValue("never stored");
      sensitive.push(value);
      for (const path of ["audit-fail/new", "audit-fail/a"]) {
        const before = await rows(path);
        if (kind === "pglite") admin = api((await deployment.restart()).url, deployment.server.adminKey);
        const res = await admin.put(secretUrl(vaultId, path), { value });
        assertProblem(res, 500, "internal_error", undefined, path);
        assert.ok(!res.text.includes(value));
        assert.deepEqual(await rows(path), before, `${path}: the refused write left rows behind`);
        if (kind === "pglite") admin = api((await deployment.restart()).url, deployment.server.adminKey);
      }
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/audit-fail/a`);
      assert.equal(versions.status, 200, versions.text);
      assert.deepEqual(versions.body.versions.map((v: { version: number }) => v.version), [1]);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/audit-fail/new`)).status, 404);
      // Writes to other paths are recorded and stored.
      const other = await admin.put(secretUrl(vaultId, "ok/y"), { value: secretValue("ok") });
      assert.equal(other.status, 201, other.text);
    });

    test("once events can be stored again, the same reads and writes work", async () => {
      await sql(ALLOW_AUDIT);
      const read = await admin.get(secretUrl(vaultId, "audit-fail/a"));
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.value, values.get("audit-fail/a"));
      const value = secretValue("stored now");
      sensitive.push(value);
      const written = await admin.put(secretUrl(vaultId, "audit-fail/new"), { value });
      assert.equal(written.status, 201, written.text);
      const events = await admin.get(`/v1/audit/events?resource_id=${written.body.id}&action=secret.write`);
      assert.equal(events.body.events.length, 1, events.text);
    });

    test("the server output holds no value or key", async () => {
      for (const server of deployment.servers) {
        await server.stop();
        assertNoLeak(server.output(), sensitive);
      }
    });
  });
}
