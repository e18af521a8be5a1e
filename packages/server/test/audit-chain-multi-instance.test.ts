/**
 * Two instances on one PostgreSQL database (started at once, so they race for the start-up lock that creates
 * the chain key), writing audit events at the same time: reads (group-committed batches), reads of a secret
 * with an access limit (each event in its read's transaction), writes and agent changes, fired concurrently
 * through both instances for two organizations.
 *
 * - afterwards each organization has one chain, valid through either instance, holding exactly the events the
 *   requests made: numbered 1..n with no gap and no duplicate, each linking to the event numbered before it,
 *   the head naming the last (no fork);
 * - both instances give the same verdict and the same head.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, provisionLocalKeys, secretValue, startServer, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason, withClient, type TestDatabase } from "./support/postgres.js";
import { allAuditEvents, createAgent, makeVault } from "./support/auth-support.js";
import { createOrganizations, verifyChain } from "./support/audit-chain.js";

describe("audit-chain-multi-instance on postgres", { skip: await postgresSkipReason() }, () => {
  let db: TestDatabase;
  let servers: ServerHandle[] = [];
  const adminKey = `1ck_${randomBytes(32).toString("base64url")}`;
  const sensitive: string[] = [adminKey];
  const keys: string[] = [adminKey];

  before(async () => {
    db = await createTestDatabase("audit_multi");
    const env = { SHARDVAULT_KEYS_DIR: provisionLocalKeys(), SHARDVAULT_ADMIN_API_KEY: adminKey };
    const started = await Promise.allSettled([0, 1].map(() => startServer({ database: "postgres", databaseUrl: db.url, env })));
    servers = started.filter((s): s is PromiseFulfilledResult<ServerHandle> => s.status === "fulfilled").map((s) => s.value);
    assert.equal(servers.length, 2, started.map((s) => (s.status === "rejected" ? String(s.reason) : "")).join("\n"));
    const [other] = await withClient(db.url, (c) => createOrganizations({ query: (sql, params) => c.query(sql, params) }, ["second"]));
    keys.push(other!.adminApiKey);
    sensitive.push(other!.adminApiKey);
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await db?.drop();
  });

  test("reads and writes through both instances at once: one unforked, valid chain per organization", async () => {
    const [a, b] = servers as [ServerHandle, ServerHandle];
    // Per organization: a vault, a plain secret and one with an access limit (its reads record in-transaction).
    const setups = await Promise.all(
      keys.map(async (key, i) => {
        const admin = api(a.url, key);
        const vault = await makeVault(admin, `multi-${i}`);
        const base = `/v1/vaults/${vault.id}/secrets`;
        for (const [path, extra] of [["plain", {}], ["limited", { max_access_count: 1000 }]] as const) {
          const value = secretValue("multi");
          sensitive.push(value);
          assert.equal((await admin.put(`${base}/${path}`, { value, ...extra })).status, 201);
        }
        return { key, base };
      }),
    );

    const requests: Array<() => Promise<number>> = [];
    for (const { key, base } of setups) {
      for (const server of [a, b]) {
        const admin = api(server.url, key);
        for (let i = 0; i < 40; i++) requests.push(async () => (await admin.get(`${base}/plain`)).status);
        for (let i = 0; i < 8; i++) requests.push(async () => (await admin.get(`${base}/limited`)).status);
        for (let i = 0; i < 10; i++) {
          requests.push(async () => {
            const value = secretValue("w");
            sensitive.push(value);
            return (await admin.put(`${base}/w/${server === a ? "a" : "b"}${i}`, { value })).status;
          });
        }
        for (let i = 0; i < 3; i++) requests.push(async () => ((await createAgent(admin, { name: `bot-${i}` })), 201));
      }
    }
    // All at once, both instances, both organizations.
    const statuses = await Promise.all(requests.map((r) => r()));
    assert.deepEqual([...new Set(statuses)].sort(), [200, 201]);

    for (const key of keys) {
      const events = await allAuditEvents(api(a.url, key));
      // Setup (vault, two writes) and one event per request.
      assert.equal(events.length, 3 + 2 * (40 + 8 + 10 + 3));
      const [viaA, viaB] = [await verifyChain(api(a.url, key)), await verifyChain(api(b.url, key))];
      assert.deepEqual(viaA, viaB, "both instances give the same verdict");
      assert.deepEqual([viaA.chain_valid, viaA.events_verified, viaA.events_unchained], [true, events.length, 0]);

      // In SQL: numbers 1..n, each event linked to the one numbered before it, the head on the last.
      const orgId = events[0]!.org_id;
      const stored = await withClient(db.url, async (c) => {
        const numbers = (await c.query("SELECT chain_seq FROM audit_events WHERE org_id = $1 ORDER BY chain_seq", [orgId])).rows.map((r) => Number(r.chain_seq));
        const misLinked = (
          await c.query(
            `SELECT e.id FROM audit_events e LEFT JOIN audit_events p ON p.org_id = e.org_id AND p.chain_seq = e.chain_seq - 1
              WHERE e.org_id = $1 AND e.prev_event_id IS DISTINCT FROM p.id`,
            [orgId],
          )
        ).rows;
        const head = (await c.query("SELECT last_seq, last_event_id FROM audit_chain_heads WHERE org_id = $1", [orgId])).rows[0];
        const last = (await c.query("SELECT id FROM audit_events WHERE org_id = $1 ORDER BY chain_seq DESC LIMIT 1", [orgId])).rows[0];
        return { numbers, misLinked, head, last };
      });
      assert.deepEqual(stored.numbers, Array.from({ length: events.length }, (_, i) => i + 1));
      assert.deepEqual(stored.misLinked, []);
      assert.deepEqual([Number(stored.head.last_seq), stored.head.last_event_id], [events.length, stored.last.id]);
      assert.equal(viaA.head?.event_id, stored.last.id);
    }
  });

  test("the outputs hold no value and no key", () => {
    for (const server of servers) assertNoLeak(server.output(), sensitive);
  });
});
