/**
 * CMEK with MPC ("MPC is compatible with CMEK — triple-layered protection"; "CMEK wraps the value before MPC
 * splits the DEK"), on PGlite with the local provider slots and on PostgreSQL:
 *
 * - a vault created with each custody mode (and a plain one), then CMEK enabled: both show on the vault; a
 *   CMEK blob written there reads back byte for byte (client-custody modes with `X-Client-Share`) with
 *   `cmek_encrypted: true`, opens with the client's key and not with another; client-share errors still
 *   come first; malformed values are refused there too, without a client share being handed out;
 * - a plain CMEK vault whose blobs are then re-protected by enabling MPC keeps every blob as written;
 * - key rotation: refused in client-custody vaults (409 `rotation_needs_client_shares`, nothing changed);
 *   in a multi-HSM vault it completes over several batches and every version then opens with the new key only.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { assertMpcVault, createVault, enableMpc, MODES, mode, secretUrl, shareHeader, type ModeInfo } from "./support/mpc-support.js";
import {
  assertJobShape,
  cmekDecrypt,
  cmekEncrypt,
  cmekKey,
  cmekOpens,
  enableCmek,
  keyStrings,
  postRotation,
  readBlob,
  waitForJob,
  writeMany,
  type CmekKey,
} from "./support/cmek.js";

/** The plain vault (no MPC) and the three custody modes. */
const SETUPS: ReadonlyArray<ModeInfo | undefined> = [undefined, ...MODES];
const nameOf = (m: ModeInfo | undefined) => m?.name ?? "plain";

for (const kind of DATABASE_KINDS) {
  describe(`cmek-mpc on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    const sensitive: string[] = [];
    const key = (): CmekKey => {
      const k = cmekKey();
      sensitive.push(...keyStrings(k));
      return k;
    };
    const plaintextOf = (label: string) => {
      const p = `plain-${label}-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
      sensitive.push(p);
      return p;
    };

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
    });

    after(async () => {
      await deployment?.dispose();
    });

    /** A vault created with `m`'s custody mode (none: plain), then CMEK enabled with `k`. */
    async function cmekVault(m: ModeInfo | undefined, k: CmekKey, label: string): Promise<string> {
      const vault = await createVault(admin, `${label}-${nameOf(m)}`, m ? { custody_mode: m.name } : {});
      if (m) assertMpcVault(vault, m);
      const enabled = await enableCmek(admin, vault.id, k);
      if (m) assertMpcVault(enabled, m, m.providers, "the CMEK answer");
      const shown = await admin.get(`/v1/vaults/${vault.id}`);
      assert.equal(shown.body.cmek_enabled, true);
      assert.equal(shown.body.cmek_fingerprint, k.fingerprint);
      if (m) assertMpcVault(shown.body, m);
      else assert.ok(!("mpc_custody" in shown.body), shown.text);
      return vault.id;
    }

    for (const m of SETUPS) {
      test(`${nameOf(m)}: a CMEK blob reads back byte-identical with cmek_encrypted: true; only the client's key opens it`, async () => {
        const k = key();
        const wrong = cmekKey();
        const vaultId = await cmekVault(m, k, "roundtrip");
        const written: Array<{ version: number; blob: string; plaintext: string; share?: string }> = [];
        for (let i = 0; i < 2; i++) {
          const plaintext = plaintextOf(`${nameOf(m)}-${i}`);
          const blob = cmekEncrypt(k, plaintext);
          const res = await admin.put(secretUrl(vaultId, "stripe/key"), { value: blob, type: "api_key" });
          assert.equal(res.status, 201, res.text);
          if (m?.clientHoldsShare) {
            assert.equal(typeof res.body.client_share, "string", res.text);
            sensitive.push(res.body.client_share);
          } else assert.ok(!("client_share" in res.body), res.text);
          written.push({ version: res.body.version, blob, plaintext, share: res.body.client_share });
        }
        for (const w of written) {
          const got = await readBlob(admin, vaultId, "stripe/key", { version: w.version, ...(w.share ? { share: w.share } : {}) });
          assert.equal(got, w.blob, "not byte-identical");
          assert.equal(cmekDecrypt(k, got).toString("utf8"), w.plaintext);
          assert.ok(!cmekOpens(wrong, got), "another key opened the blob");
          const byRoute = await admin.get(`/v1/vaults/${vaultId}/secret-version/stripe/key/${w.version}`, { headers: shareHeader(w.share) });
          assert.equal(byRoute.status, 200, byRoute.text);
          assert.equal(byRoute.body.value, w.blob);
          assert.equal(byRoute.body.cmek_encrypted, true);
        }
        const latest = written.at(-1)!;
        assert.equal(await readBlob(admin, vaultId, "stripe/key", latest.share ? { share: latest.share } : {}), latest.blob);
        if (m?.clientHoldsShare) {
          // The MPC layer still guards the value: no share, or another version's share, is refused.
          assertProblem(await admin.get(secretUrl(vaultId, "stripe/key")), 400, "client_share_required");
          assertProblem(await admin.get(secretUrl(vaultId, "stripe/key"), { headers: shareHeader(written[0]!.share) }), 400, "client_share_mismatch");
        }
      });

      test(`${nameOf(m)}: malformed values are refused in a CMEK vault (no version, no client share handed out)`, async () => {
        const k = key();
        const vaultId = await cmekVault(m, k, "malformed");
        const good = cmekEncrypt(k, plaintextOf("good"));
        const bad = [
          "plain text value",
          good.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
          Buffer.concat([Buffer.from([2]), Buffer.from(good, "base64").subarray(1)]).toString("base64"),
          Buffer.alloc(28, 1).toString("base64"),
        ].filter((value) => value !== good); // a blob whose base64 holds no +, / or = is its own url-safe form
        for (const value of bad) {
          const res = await admin.put(secretUrl(vaultId, "bad/one"), { value });
          assertProblem(res, 400, "cmek_value_malformed");
          assert.ok(!("client_share" in res.body), res.text);
        }
        assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/bad/one`)).status, 404);
      });
    }

    for (const m of MODES) {
      test(`${m.name}: enabling MPC on a vault holding CMEK blobs re-protects them unchanged`, async () => {
        const k = key();
        const vault = await createVault(admin, `reprotect-${m.name}`);
        await enableCmek(admin, vault.id, k);
        const blobs = new Map<string, { blob: string; plaintext: string }>();
        for (const path of ["re/a", "re/b"]) {
          const plaintext = plaintextOf(`re-${path}`);
          const blob = cmekEncrypt(k, plaintext);
          assert.equal((await admin.put(secretUrl(vault.id, path), { value: blob })).status, 201);
          blobs.set(path, { blob, plaintext });
        }
        const enabled = await enableMpc(admin, vault.id, { custody_mode: m.name });
        assertMpcVault(enabled, m);
        assert.equal(enabled.cmek_enabled, true, JSON.stringify(enabled));
        assert.equal(enabled.cmek_fingerprint, k.fingerprint);
        for (const [path, { blob, plaintext }] of blobs) {
          const share = enabled.client_shares?.find((c: any) => c.path === path)?.client_share as string | undefined;
          if (m.clientHoldsShare) assert.ok(share, JSON.stringify(enabled.client_shares));
          if (share) sensitive.push(share);
          const got = await readBlob(admin, vault.id, path, share ? { share } : {});
          assert.equal(got, blob);
          assert.equal(cmekDecrypt(k, got).toString("utf8"), plaintext);
        }
      });
    }

    for (const m of MODES.filter((x) => x.clientHoldsShare)) {
      test(`${m.name}: key rotation is refused with 409 rotation_needs_client_shares and changes nothing`, async () => {
        const k = key();
        const next = key();
        const vaultId = await cmekVault(m, k, "no-rotation");
        const plaintext = plaintextOf("cc-rotation");
        const blob = cmekEncrypt(k, plaintext);
        const w = await admin.put(secretUrl(vaultId, "cc/x"), { value: blob });
        assert.equal(w.status, 201, w.text);
        sensitive.push(w.body.client_share);
        const refused = await postRotation(admin, vaultId, k, next);
        assertProblem(refused, 409, "rotation_needs_client_shares");
        assert.equal(refused.headers.get("location"), null);
        // Nothing changed: the vault's key, the stored blob; writes still go under the old key.
        const vault = await admin.get(`/v1/vaults/${vaultId}`);
        assert.equal(vault.body.cmek_fingerprint, k.fingerprint, vault.text);
        const got = await readBlob(admin, vaultId, "cc/x", { share: w.body.client_share });
        assert.equal(got, blob);
        assert.equal(cmekDecrypt(k, got).toString("utf8"), plaintext);
        // Refused the same way however the keys look (the mode decides, before the keys are looked at).
        assertProblem(await postRotation(admin, vaultId, next, k), 409, "rotation_needs_client_shares");
      });
    }

    test("2of3_multi_hsm: key rotation over several batches completes; every version then opens with the new key only", async () => {
      const m = mode("2of3_multi_hsm");
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault(m, oldKey, "rotation");
      const written = await writeMany(admin, vaultId, oldKey, 130, "hsm", 8);
      // Second versions of a few paths: every live version is rotated, not only the latest.
      const extra: Array<{ path: string; version: number; plaintext: string }> = [];
      for (const w of written.slice(0, 5)) {
        const plaintext = plaintextOf(`v2-${w.path}`);
        const res = await admin.put(secretUrl(vaultId, w.path), { value: cmekEncrypt(oldKey, plaintext) });
        assert.equal(res.status, 201, res.text);
        extra.push({ path: w.path, version: res.body.version, plaintext });
      }
      const total = written.length + extra.length;

      const started = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(started.status, 202, started.text);
      assertJobShape(started.body, "202 answer");
      assert.equal(started.headers.get("location"), `/v1/vaults/${vaultId}/cmek-rotate/${started.body.id}`);
      assert.equal(started.body.total_secrets, total);
      const done = await waitForJob(admin, vaultId, started.body.id);
      assert.equal(done.status, "completed", JSON.stringify(done));
      assert.equal(done.processed, total);
      assert.equal(done.old_fingerprint, oldKey.fingerprint);
      assert.equal(done.new_fingerprint, newKey.fingerprint);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint, newKey.fingerprint);

      for (const w of written) {
        const got = await readBlob(admin, vaultId, w.path, { version: w.version });
        assert.notEqual(got, w.blob, `${w.path} was not re-encrypted`);
        assert.equal(cmekDecrypt(newKey, got).toString("utf8"), w.plaintext, w.path);
        assert.ok(!cmekOpens(oldKey, got), `${w.path} still opens with the old key`);
      }
      for (const e of extra) {
        const got = await readBlob(admin, vaultId, e.path, { version: e.version });
        assert.equal(cmekDecrypt(newKey, got).toString("utf8"), e.plaintext);
        assert.ok(!cmekOpens(oldKey, got));
      }
      // No version was added by the rotation.
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/${written[0]!.path}`);
      assert.deepEqual(versions.body.versions.map((v: any) => v.version).sort(), [1, 2]);
      // New writes need the new key's blobs (shape only), and read back as written.
      const fresh = cmekEncrypt(newKey, plaintextOf("after-rotation"));
      assert.equal((await admin.put(secretUrl(vaultId, "hsm/fresh"), { value: fresh })).status, 201);
      assert.equal(await readBlob(admin, vaultId, "hsm/fresh"), fresh);
    });

    test("the server output holds no CMEK key, plaintext, client share or API key", () => {
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
