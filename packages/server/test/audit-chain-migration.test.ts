/**
 * Upgrading to the audit chain, on the embedded database (PGlite) and on PostgreSQL: a database built with
 * every migration before the chain's (110) and bootstrapped, holding audit events of two organizations written
 * the old way, is then opened by the server, which applies 110.
 *
 * - the old events are reported as unchained ("before the chain began"), not as a broken chain, and show no
 *   hash and no link;
 * - the events recorded after the upgrade form a chain that starts after them (its first event links to
 *   nothing); verification over everything, or over a window starting among the old events or at the chain's
 *   start, is valid and counts each kind;
 * - each organization's old events were numbered in time order and its chain starts after them (PostgreSQL).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { generateApiKey, USER_KEY_PREFIX } from "../src/auth/api-key.js";
import { bootstrap } from "../src/auth/bootstrap.js";
import type { Database } from "../src/db/database.js";
import { migrate } from "../src/db/migrate.js";
import { openPglite } from "../src/db/pglite.js";
import { openPostgres } from "../src/db/postgres.js";
import { api, assertNoLeak, DATABASE_KINDS, makeTempDir, secretValue, startServer, type Api, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, skipReasonFor, withClient, type TestDatabase } from "./support/postgres.js";
import { allAuditEvents, makeVault } from "./support/auth-support.js";
import { assertLinked, exportChain, verifyChain } from "./support/audit-chain.js";

const silent = { info() {}, warn() {}, error() {}, raw() {} };
/** Old events: five of the bootstrap organization, two of another, one second apart, before the upgrade. */
const OLD_TIMES = ["2025-05-01T10:00:00.000Z", "2025-05-01T10:00:01.000Z", "2025-05-01T10:00:02.000Z", "2025-05-01T10:00:03.000Z", "2025-05-01T10:00:04.000Z"];

for (const kind of DATABASE_KINDS) {
  describe(`audit-chain-migration on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    const adminKey = generateApiKey(USER_KEY_PREFIX);
    const otherOrg = randomUUID();
    let database: TestDatabase | undefined;
    let server: ServerHandle;
    let admin: Api;
    let oldIds: string[];
    const sensitive: string[] = [adminKey];

    before(async () => {
      const dataDir = makeTempDir();
      database = kind === "postgres" ? await createTestDatabase("chain_upgrade") : undefined;
      const db: Database = database ? await openPostgres(database.url) : await openPglite(dataDir);
      try {
        await migrate(db, { through: 109 });
        await bootstrap(db, adminKey, silent);
        const [{ org_id: orgId, admin_user_id: userId }] = await db.query<{ org_id: string; admin_user_id: string }>("SELECT org_id, admin_user_id FROM bootstrap");
        // Written the way the server did before the chain (newest first, to show numbering follows time).
        const old = [...OLD_TIMES.map((time) => ({ org: orgId!, time })), ...OLD_TIMES.slice(0, 2).map((time) => ({ org: otherOrg, time }))].reverse();
        oldIds = [];
        for (const { org, time } of old) {
          const id = randomUUID();
          if (org === orgId) oldIds.unshift(id);
          await db.query(
            `INSERT INTO audit_events (id, org_id, action, actor_id, actor_type, resource_type, resource_id, details, ip_address, created_at)
             VALUES ($1, $2, 'vault.create', $3, 'user', 'vault', $4, '{"name": "old"}', '127.0.0.1', $5)`,
            [id, org, userId, randomUUID(), time],
          );
        }
      } finally {
        await db.close();
      }
      server = await startServer({ database: kind, dataDir, ...(database ? { databaseUrl: database.url } : {}), env: { SHARDVAULT_ADMIN_API_KEY: adminKey } });
      assert.match(server.output(), /applied migrations: 110_audit_hash_chain\.sql/);
      admin = api(server.url, adminKey);
    });

    after(async () => {
      await server?.stop();
      await database?.drop();
    });

    test("events from before the chain began are reported as unchained, not as a broken chain", async () => {
      assert.deepEqual(await verifyChain(admin), {
        chain_valid: true,
        events_verified: 0,
        events_checked: 5,
        events_unchained: 5,
        broken_at_event_id: null,
        head: null,
      });
      const listed = await allAuditEvents(admin);
      assert.deepEqual(listed.map((e) => e.id).reverse(), oldIds, "all five, newest first");
      for (const e of listed) assert.deepEqual([e.integrity_hash, e.prev_event_id], [null, null]);
    });

    test("events after the upgrade form a chain that starts after the old ones; windows count each kind", async () => {
      const vault = await makeVault(admin, "after-upgrade");
      const value = secretValue("upgrade");
      sensitive.push(value);
      assert.equal((await admin.put(`/v1/vaults/${vault.id}/secrets/after/one`, { value })).status, 201);
      assert.equal((await admin.get(`/v1/vaults/${vault.id}/secrets/after/one`)).body.value, value);

      const exported = await exportChain(server.url, adminKey);
      assert.deepEqual(exported.slice(0, 5).map((e) => e.id), oldIds, "the old events first, in time order");
      assert.deepEqual(exported.slice(5).map((e) => e.action), ["vault.create", "secret.write", "secret.read"]);
      assert.equal(exported[5]!.prev_event_id, null, "the chain's first event links to nothing");
      assertLinked(exported, "after the upgrade");

      const newest = exported.at(-1)!;
      assert.deepEqual(await verifyChain(admin), {
        chain_valid: true,
        events_verified: 3,
        events_checked: 8,
        events_unchained: 5,
        broken_at_event_id: null,
        head: { event_id: newest.id, integrity_hash: newest.integrity_hash },
      });
      const fromOld = await verifyChain(admin, { from: OLD_TIMES[2] });
      assert.deepEqual([fromOld.chain_valid, fromOld.events_unchained, fromOld.events_verified], [true, 3, 3]);
      const fromChain = await verifyChain(admin, { from: exported[5]!.created_at });
      assert.deepEqual([fromChain.chain_valid, fromChain.events_unchained, fromChain.events_verified], [true, 0, 3]);
      const oldOnly = await verifyChain(admin, { to: OLD_TIMES[4] });
      assert.deepEqual([oldOnly.chain_valid, oldOnly.events_unchained, oldOnly.events_checked, oldOnly.head], [true, 5, 5, null]);
    });

    // Read in SQL while the server runs, so on PostgreSQL (the PGlite folder is the running server's).
    if (kind === "postgres") test("each organization's old events were numbered in time order, and its chain starts after them", async () => {
      const heads = await withClient(database!.url, async (c) => (await c.query("SELECT org_id, chain_start_seq, last_seq FROM audit_chain_heads ORDER BY chain_start_seq")).rows);
      const other = heads.find((h) => h.org_id === otherOrg);
      assert.deepEqual([Number(other.chain_start_seq), Number(other.last_seq)], [3, 2]);
      const own = heads.find((h) => h.org_id !== otherOrg);
      assert.deepEqual([Number(own.chain_start_seq), Number(own.last_seq)], [6, 8]);
      const seqs = await withClient(database!.url, async (c) => (await c.query("SELECT chain_seq FROM audit_events WHERE org_id = $1 ORDER BY created_at", [otherOrg])).rows);
      assert.deepEqual(seqs.map((r) => Number(r.chain_seq)), [1, 2]);
    });

    test("the server's output holds no value and no key", () => {
      assertNoLeak(server.output(), sensitive);
    });
  });
}
