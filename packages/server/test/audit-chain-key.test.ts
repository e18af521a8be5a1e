/**
 * The audit chain key, on the embedded database (PGlite) and on PostgreSQL.
 *
 * - It is stored only wrapped by the default key provider: one `audit_chain_keys` row, in the default slot. The
 *   dump attacker tries every window of 32 bytes of every byte string of every table as the key: none
 *   reproduces a stored event's `integrity_hash`, so a copy of the database cannot re-hash an edited event.
 * - Positive control (proves the procedure): with the default provider's key file, the KEK derived as
 *   providers/local.ts does and the binding of audit/chain-key.ts, the row unwraps to the key that reproduces
 *   every stored hash; under another binding (another purpose) it does not unwrap.
 * - The documented limit: with that key (database plus default provider), an event edited and the chain
 *   re-hashed from there on verifies as valid. The chain protects against the database alone, no more.
 */
import assert from "node:assert/strict";
import { createSecretKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { encodeContext, open } from "@shardvault/crypto";
import { chainHash, type StoredAuditEvent } from "../src/audit/chain-hash.js";
import { api, assertNoLeak, DATABASE_KINDS, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { byteStrings, dumpTables, keyCandidates } from "./support/cmek.js";
import { defaultKeyFile, makeVault, onDatabase } from "./support/auth-support.js";
import { localKek, type Queryer } from "./support/mpc-support.js";
import { exportChain, verifyChain } from "./support/audit-chain.js";

interface ChainKeyRow {
  id: string;
  kek_slot: string;
  kek_id: string;
  wrapped_key: Uint8Array;
}

const storedEvents = async (db: Queryer): Promise<StoredAuditEvent[]> =>
  (await db.query("SELECT * FROM audit_events ORDER BY org_id, chain_seq")).rows.map((row) => ({
    ...row,
    chain_seq: Number(row.chain_seq),
    created_at: new Date(row.created_at).toISOString(),
  }));

const reproduces = (key: KeyObject, events: StoredAuditEvent[]) =>
  events.every((e, i) => chainHash(key, { ...e, chain_seq: e.chain_seq! }, i === 0 || events[i - 1]!.org_id !== e.org_id ? null : events[i - 1]!.integrity_hash) === e.integrity_hash);

for (const kind of DATABASE_KINDS) {
  describe(`audit-chain-key on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let rows: ChainKeyRow[];
    let events: StoredAuditEvent[];
    let candidates: Uint8Array[];
    const sensitive: string[] = [];
    const admin = (): Api => api(deployment.servers.at(-1)!.url, deployment.server.adminKey);

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      const vault = await makeVault(admin(), "chain-key");
      for (let i = 0; i < 3; i++) {
        const value = secretValue("chain-key");
        sensitive.push(value);
        assert.equal((await admin().put(`/v1/vaults/${vault.id}/secrets/k/${i}`, { value })).status, 201);
        assert.equal((await admin().get(`/v1/vaults/${vault.id}/secrets/k/${i}`)).status, 200);
      }
      await onDatabase(deployment, async (db) => {
        rows = (await db.query("SELECT id, kek_slot, kek_id, wrapped_key FROM audit_chain_keys")).rows.map((r) => ({ ...r, wrapped_key: new Uint8Array(r.wrapped_key) }));
        events = await storedEvents(db);
        candidates = keyCandidates(byteStrings(await dumpTables(db)));
      });
      if (kind === "pglite") await deployment.restart();
    });

    after(async () => {
      await deployment?.dispose();
    });

    const unwrap = (row: ChainKeyRow, purpose = "audit-chain-key") => {
      const master = new Uint8Array(readFileSync(defaultKeyFile(deployment.server.dataDir, row.kek_slot)));
      return open(localKek(master, row.kek_id), row.wrapped_key, encodeContext({ purpose, format: 1, key_id: row.id, kek_id: row.kek_id }));
    };

    test("one chain key, wrapped by the default provider; no 32-byte window of the dump reproduces a stored hash", () => {
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.kek_slot, "gcp", "the development deployment's default slot");
      assert.equal(events.length, 7);
      assert.ok(candidates.length > 100, `${candidates.length} candidates`);
      const newest = events.at(-1)!;
      const prev = events.at(-2)!.integrity_hash;
      const hits = candidates.filter((c) => chainHash(createSecretKey(c), { ...newest, chain_seq: newest.chain_seq! }, prev) === newest.integrity_hash);
      assert.equal(hits.length, 0);
    });

    test("positive control: the key file and the binding unwrap the key that reproduces every stored hash", () => {
      const key = unwrap(rows[0]!);
      assert.equal(key.length, 32);
      assert.ok(reproduces(createSecretKey(key), events));
      assert.ok(!candidates.some((c) => Buffer.from(c).equals(Buffer.from(key))), "the key is nowhere in the database");
      assert.throws(() => unwrap(rows[0]!, "jwt-signing-key"), "bound to its purpose");
    });

    test("the documented limit: with the key (database plus default provider) a rewritten chain verifies", async () => {
      const key = createSecretKey(unwrap(rows[0]!));
      const before = await exportChain(deployment.servers.at(-1)!.url, deployment.server.adminKey);
      assert.equal((await verifyChain(admin())).chain_valid, true);
      await onDatabase(deployment, async (db) => {
        const chain = (await storedEvents(db)).filter((e) => e.org_id === before[0]!.org_id);
        // Edit the third event, then re-hash it and every later one with the real key, and move the head.
        let prevHash = chain[1]!.integrity_hash;
        for (const [i, e] of chain.entries()) {
          if (i < 2) continue;
          const edited = i === 2 ? { ...e, details: { ...e.details, path: "rewritten" } } : e;
          const hash = chainHash(key, { ...edited, chain_seq: edited.chain_seq! }, prevHash);
          await db.query("UPDATE audit_events SET details = $2::jsonb, integrity_hash = $3 WHERE id = $1", [e.id, JSON.stringify(edited.details), hash]);
          prevHash = hash;
        }
        await db.query("UPDATE audit_chain_heads SET last_hash = $2 WHERE org_id = $1", [chain[0]!.org_id, prevHash]);
      });
      if (kind === "pglite") await deployment.restart();
      const verdict = await verifyChain(admin());
      assert.deepEqual([verdict.chain_valid, verdict.events_verified], [true, before.length]);
      assert.equal((await exportChain(deployment.servers.at(-1)!.url, deployment.server.adminKey))[2]!.details.path, "rewritten");
    });

    test("the server's output holds no value and no key", () => {
      for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
    });
  });
}
