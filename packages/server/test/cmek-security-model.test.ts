/**
 * The security model with CMEK as a party, checked offline against real stored data, on PGlite (local
 * provider slots, key files in `<data dir>/keys`) and on PostgreSQL.
 *
 * The parties: the database (and its backups), the server's provider slots (gcp, aws, azure — the running
 * server can ask all of them), the client's MPC shares, and the client's CMEK key. The attacker here holds
 * everything except the CMEK key: every row of every table, every slot's key file, and in client-custody
 * vaults the client's MPC shares too. With the offline attacker of support/mpc-support.ts (`attack`: derives
 * each slot's KEK as the local provider does, unwraps what it wrapped under the binding of
 * envelope/contexts.ts, combines shares, checks the DEK commitment, opens the value) it strips the server's
 * layer completely — what comes out is exactly the CMEK blob the client wrote — and then gets no further:
 * no byte string of 32 bytes or more anywhere in its holdings (the dump, the key files, the client shares,
 * the opened server layers) opens any blob as an AES-256-GCM key. Positive control: with the CMEK key, the
 * same blob opens to the plaintext. Vaults: plain, and each custody mode (created with `custody_mode`, then
 * CMEK enabled); in the plain vault the key was also rotated once, so the server did see keys.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, DATABASE_KINDS, DEV_SLOTS, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { attack, createVault, MODES, readKeyFiles, secretUrl, snapshotDatabase, type DbSnapshot, type ModeInfo } from "./support/mpc-support.js";
import {
  byteStrings,
  cmekDecrypt,
  cmekEncrypt,
  cmekKey,
  cmekOpenBytes,
  dumpTables,
  enableCmek,
  keyCandidates,
  keyStrings,
  postRotation,
  waitForJob,
  withStoredRows,
  type CmekKey,
  type Dump,
} from "./support/cmek.js";

interface Target {
  setup: string;
  m?: ModeInfo;
  vaultId: string;
  path: string;
  version: number;
  plaintext: string;
  blob: string;
  key: CmekKey;
  share?: string;
}

const SETUPS: ReadonlyArray<ModeInfo | undefined> = [undefined, ...MODES];

for (const kind of DATABASE_KINDS) {
  describe(`cmek-security-model on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    const targets: Target[] = [];
    const keys: CmekKey[] = [];
    const sensitive: string[] = [];
    let snap: DbSnapshot;
    let dump: Dump;
    let slotKeys: Map<string, Uint8Array>;

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      for (const m of SETUPS) {
        const setup = m?.name ?? "plain";
        const vault = await createVault(admin, `model-${setup}`, m ? { custody_mode: m.name } : {});
        let k = cmekKey();
        keys.push(k);
        await enableCmek(admin, vault.id, k);
        for (let i = 0; i < 2; i++) {
          const plaintext = `model-${setup}-${i}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
          const blob = cmekEncrypt(k, plaintext);
          const res = await admin.put(secretUrl(vault.id, `model/s${i}`), { value: blob, type: "private_key" });
          assert.equal(res.status, 201, res.text);
          if (res.body.client_share) sensitive.push(res.body.client_share);
          targets.push({ setup, m, vaultId: vault.id, path: `model/s${i}`, version: res.body.version, plaintext, blob, key: k, share: res.body.client_share });
          sensitive.push(plaintext);
        }
        if (!m) {
          // The plain vault's key is rotated once: the server held both keys for a while.
          const next = cmekKey();
          keys.push(next);
          const started = await postRotation(admin, vault.id, k, next);
          assert.equal(started.status, 202, started.text);
          assert.equal((await waitForJob(admin, vault.id, started.body.id)).status, "completed");
          for (const t of targets.filter((x) => x.vaultId === vault.id)) {
            const read = await admin.get(secretUrl(vault.id, t.path));
            t.blob = read.body.value;
            t.key = next;
            assert.equal(cmekDecrypt(next, t.blob).toString("utf8"), t.plaintext);
          }
          k = next;
        }
      }
      for (const k of keys) sensitive.push(...keyStrings(k));
      // The attacker's copy: a stopped server's storage (PGlite can only be opened once the server let go).
      assert.equal((await deployment.server.stop()).code, 0, deployment.server.output());
      [snap, dump] = await withStoredRows(deployment, async (db) => [await snapshotDatabase(db), await dumpTables(db)] as const);
      const keysDir = join(deployment.server.dataDir, "keys");
      slotKeys = readKeyFiles(Object.fromEntries(DEV_SLOTS.map((slot) => [slot, join(keysDir, `${slot}.key`)])));
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("the dump holds every CMEK version, no CMEK plaintext and no CMEK key", () => {
      for (const t of targets) {
        assert.ok(snap.versions.some((v) => v.vault_id === t.vaultId && v.path === t.path && v.version === t.version), `${t.setup} ${t.path}`);
      }
      const strings = byteStrings(dump).map((b) => Buffer.from(b));
      for (const t of targets) assert.ok(!strings.some((b) => b.includes(Buffer.from(t.plaintext, "utf8"))), `${t.setup}: a plaintext is in the dump`);
      for (const k of keys) {
        assert.ok(!strings.some((b) => b.includes(k.bytes)), "a CMEK key's bytes are in the dump");
        for (const form of keyStrings(k)) assert.ok(!strings.some((b) => b.includes(Buffer.from(form, "utf8"))), "a CMEK key's text is in the dump");
      }
    });

    for (const m of SETUPS) {
      const setup = m?.name ?? "plain";
      test(`${setup}: database + every slot's key file${m?.clientHoldsShare ? " + the client's MPC share" : ""} strips the server layer to the CMEK blob, and no further`, () => {
        const mine = targets.filter((t) => t.setup === setup);
        assert.equal(mine.length, 2);
        for (const t of mine) {
          const ref = { vaultId: t.vaultId, path: t.path, version: t.version };
          const result = attack(snap, ref, { keys: slotKeys, ...(t.share ? { clientShare: t.share } : {}) });
          assert.ok(result.value, `${setup} ${t.path}: the attacker could not open the server layer (unwrapped ${result.unwrapped.join(",")})`);
          // The server's layer held exactly what the client sent: the CMEK blob, byte for byte.
          assert.equal(result.value.toString("latin1"), t.blob, `${setup} ${t.path}: the server layer does not hold the blob as written`);
          assert.ok(!result.value.includes(Buffer.from(t.plaintext, "utf8")), "the plaintext is under the server layer");
          // Positive control: the client's key opens it.
          assert.equal(cmekDecrypt(t.key, t.blob).toString("utf8"), t.plaintext);
        }
        if (m?.name === "2of2_client_custody") {
          // Without the client's MPC share not even the server layer opens (the MPC suites cover this in full).
          const t = mine[0]!;
          assert.equal(attack(snap, { vaultId: t.vaultId, path: t.path, version: t.version }, { keys: slotKeys }).value, undefined);
        }
      });
    }

    test("nothing the attacker holds opens any CMEK blob: every 32-byte window of the dump, key files, client shares and opened layers", () => {
      const opened = targets.map((t) => attack(snap, { vaultId: t.vaultId, path: t.path, version: t.version }, { keys: slotKeys, ...(t.share ? { clientShare: t.share } : {}) }).value!);
      const holdings: Uint8Array[] = [
        ...byteStrings(dump),
        ...slotKeys.values(),
        ...targets.flatMap((t) => (t.share ? [Buffer.from(t.share, "base64"), Buffer.from(t.share, "utf8")] : [])),
        ...opened,
      ];
      const candidates = keyCandidates(holdings);
      const blobs = targets.map((t) => ({ label: `${t.setup} ${t.path}`, bytes: Buffer.from(t.blob, "base64") }));
      const hits: string[] = [];
      let tries = 0;
      for (const candidate of candidates) {
        for (const blob of blobs) {
          tries++;
          try {
            cmekOpenBytes(candidate, blob.bytes);
            hits.push(blob.label);
          } catch {
            // the expected outcome without the key
          }
        }
      }
      assert.deepEqual(hits, [], "something the attacker holds opened a CMEK blob");
      assert.ok(candidates.length > 1000, `only ${candidates.length} candidates`);
      assert.equal(tries, candidates.length * blobs.length);
      // Positive control of the procedure: with the key among the candidates it does open each blob.
      for (const t of targets) {
        const withKey = keyCandidates([...slotKeys.values(), t.key.bytes]);
        assert.ok(withKey.some((c) => {
          try {
            return cmekOpenBytes(c, Buffer.from(t.blob, "base64")).toString("utf8") === t.plaintext;
          } catch {
            return false;
          }
        }), `${t.setup} ${t.path}: the procedure would not find the key`);
      }
    });

    test("the server output holds no CMEK key, plaintext, client share or API key", () => {
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
