/**
 * Changes stored by the same statement as their audit event (audit.recordWith), driven by hand on a real
 * embedded PostgreSQL (PGlite, the migrated schema, a table of the test's own as the change):
 *
 * - a change whose gate holds is stored with its event, and the statement's answer comes back; one whose gate
 *   does not hold stores neither, and its answer still comes back;
 * - changes recorded while a batch is being written go together in the next statement (with reads' events):
 *   when one change's gate fails, nothing of the batch is stored and each is tried again alone, so the others
 *   are stored and only that one is refused;
 * - a statement that fails stores nothing of its batch and fails every caller of it;
 * - every stored event is in the organization's hash chain, which verifies.
 */
import assert from "node:assert/strict";
import { createSecretKey, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { createAuditLog, type AuditedChange, type AuditEntry } from "../src/audit/audit.js";
import { createAuditReader } from "../src/audit/audit-reader.js";
import type { Principal } from "../src/auth/principal.js";
import type { Database, Queryable } from "../src/db/database.js";
import { migrate } from "../src/db/migrate.js";
import { openPglite } from "../src/db/pglite.js";
import { makeTempDir } from "./support/harness.js";

/** Inserts `id` into the test's table if the flag `gate` is set (the flag row read first, and locked). */
const insertIf = (id: string, gate: string): AuditedChange => ({
  sql: (p, name) => ({
    read: `${name("flag")} AS MATERIALIZED (SELECT open FROM test_flags WHERE name = ${p(gate)}::text FOR SHARE)`,
    gate: `EXISTS (SELECT 1 FROM ${name("flag")} WHERE open)`,
    store: (stored) => `${name("row")} AS (INSERT INTO test_changes (id) SELECT ${p(id)}::text WHERE ${stored} RETURNING id)`,
    answer: `json_build_object('flag', (SELECT open FROM ${name("flag")}), 'inserted', (SELECT id FROM ${name("row")}))`,
  }),
});

describe("changes stored with their audit events (PGlite, driven by hand)", () => {
  let db: Database;
  let counted: Database;
  let statements = 0;
  let hold: Promise<void> | undefined;
  let held!: () => void;
  const key = createSecretKey(randomBytes(32));
  const actor: Principal = { type: "user", id: randomUUID(), orgId: randomUUID() };
  const entry = (resourceId: string): AuditEntry => ({ action: "secret.write", resourceType: "secret", resourceId });
  const events = async () => (await db.query<{ resource_id: string }>("SELECT resource_id FROM audit_events ORDER BY chain_seq")).map((r) => r.resource_id);
  const changes = async () => (await db.query<{ id: string }>("SELECT id FROM test_changes ORDER BY id")).map((r) => r.id);

  before(async () => {
    db = await openPglite(makeTempDir("shardvault-audit-changes-"));
    await migrate(db);
    await db.query("CREATE TABLE test_changes (id text PRIMARY KEY)");
    await db.query("CREATE TABLE test_flags (name text PRIMARY KEY, open boolean NOT NULL)");
    await db.query("INSERT INTO test_flags VALUES ('open', true), ('shut', false)");
    // Statements that store events are counted; while `hold` is set, the next one waits for it.
    const through = (q: Queryable): Queryable => ({
      async query<T>(sql: string, params?: readonly unknown[]) {
        if (/INSERT INTO audit_events/.test(sql)) {
          statements++;
          const waiting = hold;
          hold = undefined;
          if (waiting) {
            held();
            await waiting;
          }
        }
        return q.query<T>(sql, params);
      },
    });
    counted = { ...through(db), transaction: (fn) => db.transaction((tx) => fn(through(tx))) } as Pick<Database, "query" | "transaction"> as Database;
  });
  after(() => db?.close());

  test("a change is stored with its event when its gate holds, neither when it does not; the answer comes back", async () => {
    const log = createAuditLog(counted, { key });
    const stored = await log.recordWith(actor, entry("a"), insertIf("a", "open"));
    assert.deepEqual(stored, { stored: true, answer: { flag: true, inserted: "a" } });
    const refused = await log.recordWith(actor, entry("b"), insertIf("b", "shut"));
    assert.deepEqual(refused, { stored: false, answer: { flag: false, inserted: null } });
    assert.deepEqual(await changes(), ["a"]);
    assert.deepEqual(await events(), ["a"]);
  });

  test("a batch is one statement; a failed gate in it is retried alone, the others stored", async () => {
    const log = createAuditLog(counted, { key });
    await log.record(actor, entry("primer")); // the log learns the chain head
    let release!: () => void;
    hold = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (held = resolve));
    const first = log.recordWith(actor, entry("c1"), insertIf("c1", "open"));
    await started;
    statements = 0;
    // While the first is being written, four more arrive: they form the next batch together.
    const batch = [
      log.recordWith(actor, entry("c2"), insertIf("c2", "open")),
      log.recordWith(actor, entry("c3"), insertIf("c3", "shut")),
      log.record(actor, entry("read")),
      log.recordWith(actor, entry("c4"), insertIf("c4", "open")),
    ];
    release();
    assert.equal((await first).stored, true);
    const [c2, c3, read, c4] = await Promise.all(batch);
    assert.deepEqual([c2!, c3!, c4!].map((o) => (o as { stored: boolean }).stored), [true, false, true]);
    assert.equal(read, undefined);
    assert.equal(statements, 1 + 4, "one statement for the batch, then one for each of its entries");
    assert.deepEqual(await changes(), ["a", "c1", "c2", "c4"]);
    assert.deepEqual((await events()).slice(-5), ["primer", "c1", "c2", "read", "c4"]);
  });

  test("a failing statement stores nothing of its batch and fails each caller", async () => {
    const log = createAuditLog(counted, { key });
    await log.record(actor, entry("primer-2"));
    let release!: () => void;
    hold = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (held = resolve));
    const first = log.record(actor, entry("before"));
    await started;
    // "a" is already stored: inserting it again violates the primary key.
    const batch = [log.recordWith(actor, entry("d1"), insertIf("d1", "open")), log.recordWith(actor, entry("dup"), insertIf("a", "open"))];
    release();
    await first;
    for (const outcome of await Promise.allSettled(batch)) assert.equal(outcome.status, "rejected");
    assert.ok(!(await changes()).includes("d1"));
    assert.ok(!(await events()).includes("d1"));
  });

  test("every stored event is in the organization's chain, which verifies", async () => {
    const verdict = await createAuditReader({ db, chainKey: key }).verify(actor.orgId, { limit: 1000 });
    assert.equal(verdict.chain_valid, true, JSON.stringify(verdict));
    assert.equal(verdict.events_verified, (await events()).length);
  });
});
