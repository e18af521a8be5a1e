/**
 * The audit hash chain on the embedded database (PGlite) and on PostgreSQL, over real HTTP, with tampering
 * done in SQL (on PGlite with the server stopped, the folder being single-process):
 *
 * - every event, recorded in a write's transaction or in a group-committed batch of reads (batches mixing
 *   organizations), is chained in its organization: links follow chain order, the chain's first event links to
 *   nothing, times never go back; verification over the whole chain, a window from `from`, a window up to `to`
 *   and the newest `limit` events is valid and counts what it checked; the head is the newest event; the events
 *   list and the NDJSON export show `integrity_hash` and `prev_event_id`; bad queries are 400, agents 403;
 * - one tamper per organization, in SQL: an edited field, an edited hash, an event's time moved back, a middle
 *   event deleted, the newest deleted, two events reordered, an event inserted in the middle (later ones
 *   renumbered) and at the end, a row with no place in the chain, the chain's first event stripped to pose as
 *   older: each organization's chain is broken exactly at that event (a deletion at the event after it, the
 *   newest's at the event the head names); an untouched organization's chain stays valid, and the edited
 *   event put back verifies again;
 * - audit is fail closed: with audit inserts of reads and writes refused by the database, a read answers 500
 *   with no value and a write answers 500 and stores nothing; the chain stays whole (a refused batch moves no
 *   head) and grows again once inserts work;
 * - the export of 1,200 events streams in pages, in chain order, with the hash fields on every line;
 * - the server's output holds no value and no key.
 */
import assert from "node:assert/strict";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { agentToken, allAuditEvents, createAgent, makeVault, onDatabase, type AuditEvent } from "./support/auth-support.js";
import type { Queryer } from "./support/mpc-support.js";
import { assertLinked, createOrganizations, exportChain, verifyChain } from "./support/audit-chain.js";

const TAMPERS = [
  "edit",
  "edit-hash",
  "time-moved-back",
  "delete-middle",
  "delete-newest",
  "reorder",
  "insert-middle",
  "insert-end",
  "unsequenced",
  "first-stripped",
] as const;
type TamperName = (typeof TAMPERS)[number];

interface Org {
  name: string;
  orgId: string;
  key: string;
  vaultId: string;
}

for (const kind of DATABASE_KINDS) {
  describe(`audit-chain-storage on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    const orgs = new Map<string, Org>();
    /** Each organization's events in chain order, as exported before any tampering. */
    const chains = new Map<string, AuditEvent[]>();
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);

    const url = () => deployment.servers.at(-1)!.url;
    const admin = (org: Org): Api => api(url(), org.key);
    const org = (name: string) => orgs.get(name)!;

    /** SQL on the stored data: PostgreSQL while the server runs; PGlite with it stopped, restarted after. */
    async function onStoredData<T>(fn: (db: Queryer) => Promise<T>): Promise<T> {
      const result = await onDatabase(deployment, fn);
      if (kind === "pglite") await deployment.restart();
      return result;
    }

    /** A vault, three writes, three concurrent reads and a refused read: eight events. */
    async function populate(o: Org): Promise<void> {
      const a = admin(o);
      o.vaultId = (await makeVault(a, `chain-${o.name}`)).id;
      const s = (path: string) => `/v1/vaults/${o.vaultId}/secrets/${path}`;
      for (let i = 0; i < 3; i++) assert.equal((await a.put(s(`chain/s${i}`), { value: keep(secretValue(o.name)) })).status, 201);
      const reads = await Promise.all([0, 1, 2].map((i) => a.get(s(`chain/s${i}`))));
      for (const r of reads) assert.equal(r.status, 200, r.text);
      assertProblem(await a.get(s("chain/missing")), 404, "secret_not_found");
    }

    before(async () => {
      deployment = await deploy(kind);
      keep(deployment.server.adminKey);
      const names = [...TAMPERS, "untouched", "fail-closed", "bulk"];
      const created = await onStoredData((db) => createOrganizations(db, names));
      for (const c of created) orgs.set(c.name, { name: c.name, orgId: c.orgId, key: keep(c.adminApiKey), vaultId: "" });
      // All at once: group-committed batches hold events of several organizations.
      await Promise.all([...orgs.values()].filter((o) => o.name !== "bulk").map(populate));
      for (const o of orgs.values()) if (o.name !== "bulk") chains.set(o.name, await exportChain(url(), o.key));
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("every event is chained in its organization; verify, list and export agree; windows verify", async () => {
      for (const [name, chain] of chains) {
        const a = admin(org(name));
        assert.equal(chain.length, 8, name);
        assertLinked(chain, name);
        assert.equal(chain[0]!.prev_event_id, null, "the organization's first event starts its chain");
        assert.ok(chain.every((e) => e.org_id === org(name).orgId));
        assert.deepEqual(
          chain.map((e) => e.action),
          ["vault.create", "secret.write", "secret.write", "secret.write", "secret.read", "secret.read", "secret.read", "secret.read_refused"],
        );
        // The list shows the same events with the same links.
        const listed = new Map((await allAuditEvents(a)).map((e) => [e.id, e]));
        assert.equal(listed.size, 8);
        for (const e of chain) assert.deepEqual(listed.get(e.id), e, name);

        const newest = chain.at(-1)!;
        assert.deepEqual(await verifyChain(a), {
          chain_valid: true,
          events_verified: 8,
          events_checked: 8,
          events_unchained: 0,
          broken_at_event_id: null,
          head: { event_id: newest.id, integrity_hash: newest.integrity_hash },
        });
        // A window from mid-chain, anchored on the event before it; one up to `to`; the newest `limit`.
        const from = chain[3]!.created_at;
        const fromWindow = await verifyChain(a, { from });
        assert.deepEqual([fromWindow.chain_valid, fromWindow.events_checked, fromWindow.head?.event_id], [true, chain.filter((e) => e.created_at >= from).length, newest.id]);
        const to = chain[4]!.created_at;
        const toWindow = await verifyChain(a, { to });
        assert.deepEqual([toWindow.chain_valid, toWindow.events_checked, toWindow.head], [true, chain.filter((e) => e.created_at <= to).length, null]);
        const newestTwo = await verifyChain(a, { limit: 2 });
        assert.deepEqual([newestTwo.chain_valid, newestTwo.events_checked, newestTwo.head?.event_id], [true, 2, newest.id]);
        const limited = await verifyChain(a, { from, limit: 1 });
        assert.deepEqual([limited.chain_valid, limited.events_checked, limited.head], [true, 1, null]);
        // The export's window: the events whose time is in it, in chain order.
        assert.deepEqual(await exportChain(url(), org(name).key, { from, to }), chain.filter((e) => e.created_at >= from && e.created_at <= to));
        assert.deepEqual(await exportChain(url(), org(name).key, { from: new Date(Date.parse(newest.created_at) + 1).toISOString() }), []);
      }
    });

    test("bad verify and export queries are 400 problems; agents get 403; no token 401", async () => {
      const a = admin(org("untouched"));
      for (const q of ["limit=0", "limit=-1", "limit=abc", "limit=100000", "from=yesterday", "to=1700000000", "offset=3", "unknown=1"]) {
        assertProblem(await a.get(`/v1/audit/verify?${q}`), 400, "validation_error", undefined, q);
      }
      for (const q of ["from=yesterday", "limit=5", "to=x"]) assertProblem(await a.get(`/v1/audit/export?${q}`), 400, "validation_error", undefined, q);
      // At most 10000 events per verification: larger limits are read as 10000.
      assert.equal((await verifyChain(a, { limit: 99999 })).chain_valid, true);
      const agent = await createAgent(a, { name: "auditor-bot" });
      keep(agent.api_key);
      const token = keep((await agentToken(url(), agent.api_key)).access_token);
      for (const path of ["/v1/audit/verify", "/v1/audit/export", "/v1/audit/events"]) {
        assertProblem(await api(url(), token).get(path), 403, "forbidden", /agents may not/);
        assertProblem(await api(url()).get(path), 401, "unauthorized");
      }
      chains.set("untouched", await exportChain(url(), org("untouched").key));
    });

    test("SQL edits, deletions, insertions and reorders break the chain at that event; other chains stay valid", async () => {
      const expected = new Map<TamperName, string>();
      const otherKey = randomBytes(32);
      await onStoredData(async (db) => {
        for (const name of TAMPERS) {
          const chain = chains.get(name)!;
          const seqOf = async (id: string) => Number((await db.query("SELECT chain_seq FROM audit_events WHERE id = $1", [id])).rows[0].chain_seq);
          /** A copy of `source` with a new id, at `seq`, linking to `prev`, with `hash`. */
          const forge = async (source: AuditEvent, seq: number | null, prev: string | null, hash: string | null) => {
            const id = randomUUID();
            await db.query(
              `INSERT INTO audit_events (id, org_id, chain_seq, action, actor_id, actor_type, resource_type, resource_id, details, ip_address, created_at, prev_event_id, integrity_hash)
               SELECT $2, org_id, $3, action, actor_id, actor_type, resource_type, resource_id, details, ip_address, created_at, $4, $5 FROM audit_events WHERE id = $1`,
              [source.id, id, seq, prev, hash],
            );
            return id;
          };
          const middle = chain[3]!;
          switch (name) {
            case "edit":
              await db.query(`UPDATE audit_events SET details = details || '{"path": "elsewhere"}'::jsonb WHERE id = $1`, [middle.id]);
              expected.set(name, middle.id);
              break;
            case "edit-hash": {
              // What someone without the chain key can compute: an HMAC under another key.
              const forged = createHmac("sha256", otherKey).update(middle.id).digest("hex");
              await db.query("UPDATE audit_events SET integrity_hash = $2 WHERE id = $1", [middle.id, forged]);
              expected.set(name, middle.id);
              break;
            }
            case "time-moved-back":
              await db.query("UPDATE audit_events SET created_at = created_at - interval '1 hour' WHERE id = $1", [middle.id]);
              expected.set(name, middle.id);
              break;
            case "delete-middle":
              await db.query("DELETE FROM audit_events WHERE id = $1", [middle.id]);
              expected.set(name, chain[4]!.id);
              break;
            case "delete-newest":
              await db.query("DELETE FROM audit_events WHERE id = $1", [chain.at(-1)!.id]);
              expected.set(name, chain.at(-1)!.id);
              break;
            case "reorder": {
              // Swap the places of the 3rd and 6th events (through a free number: chain_seq is unique).
              const [a, b] = [chain[2]!, chain[5]!];
              const [seqA, seqB] = [await seqOf(a.id), await seqOf(b.id)];
              await db.query("UPDATE audit_events SET chain_seq = -1 WHERE id = $1", [a.id]);
              await db.query("UPDATE audit_events SET chain_seq = $2 WHERE id = $1", [b.id, seqA]);
              await db.query("UPDATE audit_events SET chain_seq = $2 WHERE id = $1", [a.id, seqB]);
              expected.set(name, b.id);
              break;
            }
            case "insert-middle": {
              // Make room after the 4th event, then put a forged one there, linked to it, with a borrowed hash.
              const seq = await seqOf(middle.id);
              const orgId = org(name).orgId;
              await db.query("UPDATE audit_events SET chain_seq = -chain_seq - 1 WHERE org_id = $1 AND chain_seq > $2", [orgId, seq]);
              await db.query("UPDATE audit_events SET chain_seq = -chain_seq WHERE org_id = $1 AND chain_seq < 0", [orgId]);
              expected.set(name, await forge(middle, seq + 1, middle.id, chain[4]!.integrity_hash));
              break;
            }
            case "insert-end": {
              const newest = chain.at(-1)!;
              expected.set(name, await forge(newest, (await seqOf(newest.id)) + 1, newest.id, "0".repeat(64)));
              break;
            }
            case "unsequenced":
              expected.set(name, await forge(chain[5]!, null, null, null));
              break;
            case "first-stripped":
              // The chain's first event made to look like one from before the chain.
              await db.query("UPDATE audit_events SET integrity_hash = NULL, prev_event_id = NULL WHERE id = $1", [chain[0]!.id]);
              expected.set(name, chain[0]!.id);
              break;
          }
        }
      });
      for (const name of TAMPERS) {
        const verdict = await verifyChain(admin(org(name)));
        assert.equal(verdict.chain_valid, false, name);
        assert.equal(verdict.broken_at_event_id, expected.get(name), name);
        assert.equal(verdict.head, null, name);
      }
      const untouched = await verifyChain(admin(org("untouched")));
      assert.deepEqual([untouched.chain_valid, untouched.events_verified], [true, chains.get("untouched")!.length]);
      // A window that ends before the tampered event does not see it.
      const before = await verifyChain(admin(org("edit")), { to: chains.get("edit")![2]!.created_at });
      assert.equal(before.chain_valid, chains.get("edit")![3]!.created_at > chains.get("edit")![2]!.created_at, "a window ending before the edit");

      // The edit undone: the event verifies again.
      const original = chains.get("edit")![3]!;
      await onStoredData((db) => db.query("UPDATE audit_events SET details = $2::jsonb WHERE id = $1", [original.id, JSON.stringify(original.details)]));
      assert.equal((await verifyChain(admin(org("edit")))).chain_valid, true);
    });

    test("audit is fail closed: a read or write whose event cannot be stored fails, and the chain stays whole", async () => {
      const o = org("fail-closed");
      // The server is restarted (PGlite) around the SQL: always the current one.
      const a = () => admin(o);
      const s = (path: string) => `/v1/vaults/${o.vaultId}/secrets/${path}`;
      const versions = async () => (await a().get(`/v1/vaults/${o.vaultId}/secret-versions/chain/s0`)).body.versions.length;
      const versionsBefore = await versions();
      await onStoredData((db) => db.query("ALTER TABLE audit_events ADD CONSTRAINT refuse_secret_events CHECK (action NOT IN ('secret.read', 'secret.write')) NOT VALID"));

      const read = await a().get(s("chain/s0"));
      assertProblem(read, 500, "internal_error");
      assert.ok(!("value" in read.body));
      assertProblem(await a().put(s("chain/s0"), { value: keep(secretValue("refused-write")) }), 500, "internal_error");
      assert.equal(await versions(), versionsBefore, "the write stored nothing");
      // The refused read is itself recorded (as refused), and other events chain meanwhile.
      await makeVault(a(), "while-refusing");
      const during = await exportChain(url(), o.key);
      assert.deepEqual(
        during.slice(8).map((e) => [e.action, e.details.reason ?? null]),
        [
          ["secret.read_refused", "internal_error"],
          ["vault.create", null],
        ],
      );
      assertLinked(during, "fail-closed");
      const during10 = await verifyChain(a());
      assert.deepEqual([during10.chain_valid, during10.events_verified], [true, 10]);

      await onStoredData((db) => db.query("ALTER TABLE audit_events DROP CONSTRAINT refuse_secret_events"));
      const again = await a().get(s("chain/s0"));
      assert.equal(again.status, 200, again.text);
      const after11 = await verifyChain(a());
      assert.deepEqual([after11.chain_valid, after11.events_verified], [true, 11]);
      assertLinked(await exportChain(url(), o.key), "fail-closed");
    });

    test("the export of 1,200 events streams page by page, in chain order, with the hash fields on every line", async () => {
      const o = org("bulk");
      const a = admin(o);
      o.vaultId = (await makeVault(a, "bulk")).id;
      const path = `/v1/vaults/${o.vaultId}/secrets/bulk/one`;
      assert.equal((await a.put(path, { value: keep(secretValue("bulk")) })).status, 201);
      let next = 0;
      const worker = async () => {
        while (next++ < 1198) assert.equal((await a.get(path)).status, 200);
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const exported = await exportChain(url(), o.key);
      assert.equal(exported.length, 1200);
      assertLinked(exported, "bulk");
      assert.equal(new Set(exported.map((e) => e.id)).size, 1200);
      for (const e of exported) assert.deepEqual(Object.keys(e).sort(), ["action", "actor_id", "actor_type", "created_at", "details", "id", "integrity_hash", "ip_address", "org_id", "prev_event_id", "resource_id", "resource_type"]);
      const verdict = await verifyChain(a, { limit: 10000 });
      assert.deepEqual([verdict.chain_valid, verdict.events_verified, verdict.head?.event_id], [true, 1200, exported.at(-1)!.id]);
    });

    test("the server's output holds no value and no key", async () => {
      for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
    });
  });
}
