/**
 * Enabling MPC while secrets are being written (PostgreSQL): several writers PUT continuously into a plain
 * vault that holds secrets while MPC is enabled on it (retried if the server answers 409 vault_busy).
 * Afterwards:
 * - every PUT either succeeded (201) or was refused cleanly (409 vault_protection_changed / vault_busy-like
 *   conflicts, 503 provider_unavailable): never a 5xx otherwise, never a hang;
 * - the stored versions are exactly the successful PUTs (nothing lost, nothing stored for a refused PUT);
 * - no version is left under the plain protection: every live version has `wrapped_dek IS NULL`, no
 *   `kek_slot`/`kek_id`, and one share row per server slot of the mode;
 * - every version reads under the new mode with the share the client got (from its PUT, or from the enable
 *   answer's `client_shares` for versions written before the switch), and yields exactly the value written;
 * - the server output holds no value, share or key.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertNoLeak, secretValue, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { assertMpcVault, assertValue, boundedGet, createVault, mode, putSecret, secretUrl, type ModeInfo } from "./support/mpc-support.js";

const WRITERS = 4;

describe("mpc enabling under concurrent writes on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  const sensitive: string[] = [];

  before(async () => {
    deployment = await deploy("postgres");
    sensitive.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    sql = await connect(deployment.database!.url);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  for (const m of [mode("2of3_client_custody"), mode("2of3_multi_hsm"), mode("2of2_client_custody")] as ModeInfo[]) {
    test(`${m.name}: PUTs racing the switch all end readable under the new mode, or refused cleanly`, async (t) => {
      const vaultId = (await createVault(admin, `race ${m.name}`)).id;
      /** path@version → value, for every 201. */
      const written = new Map<string, string>();
      /** path@version → client share, from PUT answers and the enable answer. */
      const shares = new Map<string, string>();
      const refusals: string[] = [];

      // Secrets already there before the race.
      for (let i = 0; i < 6; i++) {
        const value = secretValue("pre");
        sensitive.push(value);
        const w = await putSecret(admin, vaultId, `pre/${i % 3}`, value);
        written.set(`pre/${i % 3}@${w.version}`, value);
      }

      let stop = false;
      let active = WRITERS;
      let enabledAt = -1;
      let attempts = 0;
      const writer = async (n: number) => {
        for (let i = 0; !stop || i < 2; i++) {
          const path = `w${n}/${i % 3}`;
          const value = secretValue(`race-${n}`);
          sensitive.push(value);
          const res = await admin.put(secretUrl(vaultId, path), { value });
          if (res.status === 201) {
            written.set(`${path}@${res.body.version}`, value);
            if (res.body.client_share) {
              sensitive.push(res.body.client_share);
              shares.set(`${path}@${res.body.version}`, res.body.client_share);
            }
          } else {
            assert.ok([409, 503].includes(res.status), `writer ${n}: ${res.status} ${res.text}`);
            assert.match(String(res.headers.get("content-type")), /problem\+json/);
            refusals.push(`${res.status} ${res.body.code}`);
          }
          if (i > 200) break;
        }
        active--;
      };
      const enabler = async () => {
       try {
        // Let the writers get going, then switch; retry while the server reports it too busy.
        while (written.size < 14 && active > 0) await new Promise((r) => setTimeout(r, 5));
        for (;;) {
          attempts++;
          const res = await admin.post(`/v1/vaults/${vaultId}/mpc`, { custody_mode: m.name });
          if (res.status === 200) {
            assertMpcVault(res.body, m);
            for (const c of res.body.client_shares ?? []) {
              sensitive.push(c.client_share);
              shares.set(`${c.path}@${c.version}`, c.client_share);
            }
            if (m.clientHoldsShare) assert.ok(res.body.client_shares.length >= 6, `only ${res.body.client_shares.length} shares`);
            enabledAt = written.size;
            break;
          }
          assert.equal(res.status, 409, res.text);
          assert.equal(res.body.code, "vault_busy", res.text);
          assert.ok(attempts < 50, "MPC could not be enabled");
        }
        // Some more writes under the new mode, then stop.
        while (written.size < enabledAt + 8 && active > 0) await new Promise((r) => setTimeout(r, 5));
       } finally {
        stop = true;
       }
      };
      await Promise.all([enabler(), ...Array.from({ length: WRITERS }, (_, n) => writer(n))]);

      // The stored versions are exactly the successful PUTs.
      const rows = await sql.query(
        `SELECT v.path, v.version, v.wrapped_dek IS NULL AS no_dek, v.kek_slot, v.kek_id,
                array(SELECT provider || ':' || share_index FROM secret_dek_shares s WHERE s.version_id = v.id ORDER BY share_index) AS shares
           FROM secret_versions v WHERE v.vault_id = $1 AND v.deleted_at IS NULL ORDER BY v.path, v.version`,
        [vaultId],
      );
      const stored = rows.rows.map((r) => `${r.path}@${r.version}`).sort();
      assert.deepEqual(stored, [...written.keys()].sort(), "stored versions differ from the successful PUTs");

      // None is left plain; each has its mode's shares.
      const expectedShares = m.slots.map((slot, i) => `${slot}:${i + 1}`);
      for (const r of rows.rows) {
        const key = `${r.path}@${r.version}`;
        assert.equal(r.no_dek, true, `${key} still has a wrapped DEK`);
        assert.equal(r.kek_slot, null, key);
        assert.equal(r.kek_id, null, key);
        assert.deepEqual(r.shares, expectedShares, key);
      }

      // Every version reads under the new mode with the share its client got, and yields its value.
      for (const [key, value] of written) {
        const [path, version] = key.split("@") as [string, string];
        const share = shares.get(key);
        if (m.clientHoldsShare) assert.ok(share, `no client share was ever handed out for ${key}`);
        const res = await boundedGet(deployment.server.url, deployment.server.adminKey, `${secretUrl(vaultId, path)}?version=${version}`, share ? { "X-Client-Share": share } : {});
        assertValue(res, value, Number(version), key);
      }
      if (!m.clientHoldsShare) assert.equal(shares.size, 0);
      // Refusals are the clean kinds only.
      for (const r of refusals) assert.match(r, /^(409 (vault_protection_changed|vault_busy)|503 provider_unavailable)$/);
      assert.ok(enabledAt > 0);
      t.diagnostic(`${written.size} versions written, ${refusals.length} PUTs refused (${[...new Set(refusals)].join(", ")}), enabled after ${attempts} attempt(s)`);
    });
  }

  test("concurrent enables: one mode wins, every other answer is 200 or 409, and every client share handed out works", async (t) => {
    for (const modes of [
      ["2of3_client_custody", "2of3_client_custody", "2of3_client_custody"],
      ["2of2_client_custody", "2of3_client_custody", "2of3_multi_hsm"],
    ]) {
      const vaultId = (await createVault(admin, `concurrent enables ${modes}`)).id;
      const values = new Map<string, string>();
      for (const path of ["c/one", "c/two", "c/one"]) {
        const value = secretValue("concurrent-enable");
        sensitive.push(value);
        const w = await putSecret(admin, vaultId, path, value);
        values.set(`${path}@${w.version}`, value);
      }
      const answers = await Promise.all(modes.map((name) => admin.post(`/v1/vaults/${vaultId}/mpc`, { custody_mode: name })));
      for (const a of answers) assert.ok([200, 409].includes(a.status), `${a.status} ${a.text}`);
      t.diagnostic(`${modes.join(", ")}: ${answers.map((a) => `${a.status}${a.status === 200 ? "" : ` ${a.body.code}`}`).join(", ")}`);
      const final = (await admin.get(`/v1/vaults/${vaultId}`)).body;
      assert.ok(final.mpc_custody, JSON.stringify(final));
      const winner = mode(final.mpc_custody);
      assertMpcVault(final, winner);
      assert.ok(answers.some((a) => a.status === 200));
      for (const [i, a] of answers.entries()) {
        if (a.status !== 200) continue;
        // Only the winning mode may be answered with 200.
        assert.equal(a.body.mpc_custody, winner.name, `answer #${i} (${modes[i]}): ${a.text}`);
        // Whatever shares an answer carries must be the ones that read.
        for (const c of a.body.client_shares ?? []) {
          sensitive.push(c.client_share);
          const key = `${c.path}@${c.version}`;
          const res = await boundedGet(deployment.server.url, deployment.server.adminKey, `${secretUrl(vaultId, c.path)}?version=${c.version}`, { "X-Client-Share": c.client_share });
          assertValue(res, values.get(key)!, c.version, `answer #${i}: ${key}`);
        }
      }
      if (winner.clientHoldsShare) {
        const withShares = answers.filter((a) => a.status === 200 && a.body.client_shares?.length);
        assert.ok(withShares.length >= 1, "no answer handed out the re-protected versions' shares: they are lost");
        assert.deepEqual(withShares[0]!.body.client_shares.map((c: any) => `${c.path}@${c.version}`).sort(), [...values.keys()].sort());
      }
    }
  });

  test("the server output holds no value, share or key", async () => {
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), sensitive);
  });
});
