/**
 * The MPC key lifecycle over real HTTP on PostgreSQL, with four local provider slots (gcp, aws, azure, spare)
 * and jobs made to wait after their second batch (SHARDVAULT_JOB_PAUSE_AFTER_BATCHES=2: a vault of at most 50
 * versions completes, a bigger one stays running mid-way until the server stops):
 *
 * - rotation in every mode: 202 `{job_id, kind, status}` with its Location, the job completes with every
 *   version counted, every secret reads (client shares unchanged), every stored share is wrapped by its slot's
 *   new KEK, the old KEKs are disabled at their providers (a backup of the old rows no longer opens), the audit
 *   log has its start and end;
 * - proactive refresh (multi-HSM): read from the stored rows with the key files, a share from before and one
 *   from after do not combine to the DEK, while any two from before or from after do; in client custody 409
 *   `needs_client_shares`;
 * - provider replacement: each refusal's code, nothing changed by it; multi-HSM re-splits onto the new slot set
 *   (no share left at the old slot, its KEK disabled), client custody re-wraps (the client's shares keep working,
 *   the commitment keeps binding the holders of the split) until a secret-refresh re-splits it; posting a
 *   completed replacement again answers its job;
 * - one job at a time: while a job runs mid-way, another lifecycle call is 409 `job_unfinished`, the same call
 *   answers the same job, a CMEK rotation is 409 `vault_job_running`, and reads and writes go on: a write lands under
 *   the new KEKs; and a lifecycle job while a CMEK rotation runs is 409 `vault_job_running`;
 * - agents may not run jobs (403); a vault without MPC is 409 `mpc_not_enabled`; an unknown job 404.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertNoLeak, assertProblem, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { agentToken, allAuditEvents, createAgent } from "./support/auth-support.js";
import { cmekEncrypt, cmekKey } from "./support/cmek.js";
import { readKeyFiles, shareHeader, writeLocalConfig } from "./support/mpc-support.js";
import {
  assertAllRead,
  assertStarted,
  combinesToDek,
  disabledKeks,
  getJob,
  postJob,
  shareRows,
  unwrapStored,
  vaultKeks,
  vaultRow,
  versionRows,
  waitForJob,
  writeSecrets,
  type LifecycleCall,
  type Secret,
} from "./support/lifecycle.js";

const MODES = {
  "2of2_client_custody": ["gcp", "client"],
  "2of3_multi_hsm": ["gcp", "aws", "azure"],
  "2of3_client_custody": ["gcp", "aws", "client"],
  "2of3_client_required": ["gcp", "aws", "client"],
} as const;
type Mode = keyof typeof MODES;

describe("mpc key lifecycle on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  const config = writeLocalConfig(["gcp", "aws", "azure", "spare"]);
  const sensitive: string[] = [];

  async function vaultWith(mode: Mode, name: string): Promise<string> {
    const res = await admin.post("/v1/vaults", { name, custody_mode: mode });
    assert.equal(res.status, 201, res.text);
    return res.body.id;
  }

  async function written(vaultId: string, prefix: string, count: number): Promise<Secret[]> {
    const secrets = await writeSecrets(admin, vaultId, prefix, count);
    for (const s of secrets) sensitive.push(s.value, ...(s.share ? [s.share] : []));
    return secrets;
  }

  async function runJob(vaultId: string, call: LifecycleCall, body?: { from: string; to: string }) {
    const jobId = assertStarted(await postJob(admin, vaultId, call, body), call, vaultId);
    return waitForJob(admin, vaultId, jobId);
  }

  const master = () => readKeyFiles(config.keyFiles);

  before(async () => {
    deployment = await deploy("postgres", { env: { SHARDVAULT_CONFIG: config.path, SHARDVAULT_JOB_PAUSE_AFTER_BATCHES: "2" } });
    admin = api(deployment.server.url, deployment.server.adminKey);
    sql = await connect(deployment.database!.url);
    sensitive.push(deployment.server.adminKey);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  for (const mode of Object.keys(MODES) as Mode[]) {
    test(`${mode}: rotation re-wraps every share under new KEKs and disables the old ones`, async () => {
      const vaultId = await vaultWith(mode, `rotate ${mode}`);
      const secrets = [...(await written(vaultId, "r", 6)), ...(await written(vaultId, "r", 2))]; // two versions of two paths
      const oldKeks = await vaultKeks(sql, vaultId);
      const oldRows = await shareRows(sql, vaultId);
      const job = await runJob(vaultId, "rotate");
      assert.deepEqual({ ...job, id: undefined }, { id: undefined, kind: "rotate", status: "completed", total: 8, processed: 8 });

      await assertAllRead(admin, vaultId, secrets, `${mode} after rotation`);
      const newKeks = await vaultKeks(sql, vaultId);
      assert.deepEqual(Object.keys(newKeks).sort(), Object.keys(oldKeks).sort());
      for (const slot of Object.keys(oldKeks)) {
        assert.notEqual(newKeks[slot], oldKeks[slot], `${slot} kept its KEK`);
        assert.ok(disabledKeks(config.keyFiles[slot]!).includes(oldKeks[slot]!), `the old KEK at ${slot} is not disabled`);
        assert.ok(!disabledKeks(config.keyFiles[slot]!).includes(newKeks[slot]!));
      }
      const rows = await shareRows(sql, vaultId);
      assert.equal(rows.length, oldRows.length);
      for (const row of rows) assert.equal(row.kek_id, newKeks[row.provider], `a share at ${row.provider} is not under the new KEK`);
      const vault = await vaultRow(sql, vaultId);
      assert.equal(vault.mpc_generation, 2);
      assert.deepEqual(vault.mpc_providers, [...MODES[mode]]);
      for (const v of await versionRows(sql, vaultId)) assert.deepEqual([v.mpc_generation, v.mpc_providers, v.mpc_commitment_providers], [2, [...MODES[mode]], null]);

      // A backup of the old share rows no longer opens: their KEKs are disabled at the providers.
      const target = secrets[0]!;
      const versionId = (await versionRows(sql, vaultId)).find((v) => v.path === target.path && v.version === target.version)!.id;
      const current = rows.filter((r) => r.version_id === versionId);
      const restore = async (shares: typeof rows, generation: number) => {
        await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1", [versionId]);
        for (const r of shares) {
          await sql.query("INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share) VALUES ($1, $2, $3, $4, $5, $6)", [
            versionId, vaultId, r.provider, r.share_index, r.kek_id, r.wrapped_share,
          ]);
        }
        await sql.query("UPDATE secret_versions SET mpc_generation = $2 WHERE id = $1", [versionId, generation]);
      };
      await restore(oldRows.filter((r) => r.version_id === versionId), 1);
      const stale = await admin.get(`/v1/vaults/${vaultId}/secrets/${target.path}?version=${target.version}`, { headers: shareHeader(target.share) });
      assert.notEqual(stale.status, 200, `the restored old rows still open: ${stale.text}`);
      await restore(current, 2);
      await assertAllRead(admin, vaultId, [target], "after restoring the current rows");

      const events = (await allAuditEvents(admin)).filter((e) => e.resource_id === vaultId && e.action.startsWith("mpc."));
      assert.deepEqual(events.map((e) => e.action).sort(), ["mpc.rotate_completed", "mpc.rotate_started"]);
      assert.ok(events.every((e) => e.details.job_id === job.id && e.actor_type === "user"));
    });
  }

  test("multi-HSM refresh: a share from before and one from after do not combine to the DEK (stored rows, key files)", async () => {
    const vaultId = await vaultWith("2of3_multi_hsm", "refresh");
    const secrets = await written(vaultId, "f", 5);
    const before = await shareRows(sql, vaultId);
    const job = await runJob(vaultId, "refresh");
    assert.deepEqual([job.status, job.total, job.processed], ["completed", 5, 5]);
    await assertAllRead(admin, vaultId, secrets, "after refresh");
    const after = await shareRows(sql, vaultId);
    const keys = master();
    const protection = { custody: "2of3_multi_hsm", threshold: 2, providers: ["gcp", "aws", "azure"] };
    for (const v of await versionRows(sql, vaultId)) {
      const ref = { vaultId, path: v.path, version: v.version };
      const open = (rows: typeof before) =>
        new Map(rows.filter((r) => r.version_id === v.id).map((r) => [r.share_index, unwrapStored(keys.get(r.provider)!, ref, protection, r)]));
      const old = open(before);
      const fresh = open(after);
      assert.equal(fresh.size, 3);
      const dek = combinesToDek(old.get(1)!, old.get(2)!, ref, protection, v.dek_commitment);
      assert.ok(dek, "two shares from before rebuild the DEK");
      for (const [x, share] of fresh) {
        assert.ok(!Buffer.from(share).equals(Buffer.from(old.get(x)!)), `the share at x=${x} did not change`);
        for (const [y, other] of fresh) if (x < y) assert.deepEqual(combinesToDek(share, other, ref, protection, v.dek_commitment), dek, "two shares from after");
        for (const [y, previous] of old) if (x !== y) assert.equal(combinesToDek(previous, share, ref, protection, v.dek_commitment), undefined, `old x=${y} + new x=${x}`);
      }
    }
    const clientVault = await vaultWith("2of3_client_custody", "refresh client");
    assertProblem(await postJob(admin, clientVault, "refresh"), 409, "needs_client_shares");
  });

  test("replacement refusals: each with its code, nothing changed", async () => {
    const vaultId = await vaultWith("2of3_multi_hsm", "refusals");
    await written(vaultId, "n", 2);
    const before = { vault: await vaultRow(sql, vaultId), keks: await vaultKeks(sql, vaultId), shares: await shareRows(sql, vaultId) };
    const refusals: Array<[unknown, number, string]> = [
      [{ from: "spare", to: "gcp" }, 400, "provider_not_in_vault"],
      [{ from: "client", to: "spare" }, 400, "provider_not_in_vault"],
      [{ from: "gcp", to: "gcp" }, 400, "same_provider"],
      [{ from: "gcp", to: "aws" }, 400, "provider_already_in_vault"],
      [{ from: "gcp", to: "nope" }, 400, "provider_not_configured"],
      [{ from: "gcp", to: "client" }, 400, "provider_not_configured"],
      [{ from: "gcp" }, 400, "validation_error"],
      [{ from: "", to: "spare" }, 400, "validation_error"],
      [{ from: 7, to: "spare" }, 400, "validation_error"],
    ];
    for (const [body, status, code] of refusals) {
      assertProblem(await admin.post(`/v1/vaults/${vaultId}/mpc/replace-provider`, body), status, code);
    }
    assertProblem(await admin.post(`/v1/vaults/${vaultId}/mpc/replace-provider`), 400, "validation_error");
    assert.deepEqual({ vault: await vaultRow(sql, vaultId), keks: await vaultKeks(sql, vaultId), shares: await shareRows(sql, vaultId) }, before);
    assert.equal((await sql.query("SELECT count(*)::int AS n FROM jobs WHERE vault_id = $1", [vaultId])).rows[0].n, 0);

    const plain = (await admin.post("/v1/vaults", { name: "plain" })).body.id;
    for (const call of ["rotate", "refresh"] as const) assertProblem(await postJob(admin, plain, call), 409, "mpc_not_enabled");
    assertProblem(await postJob(admin, plain, "replace-provider", { from: "gcp", to: "spare" }), 409, "mpc_not_enabled");
    assertProblem(await admin.get(`/v1/vaults/${vaultId}/mpc/jobs/00000000-0000-4000-8000-000000000000`), 404, "job_not_found");
    assertProblem(await admin.get(`/v1/vaults/${vaultId}/mpc/jobs/not-a-job`), 404, "job_not_found");

    // secret-refresh: only in client custody; its refusals are decided before any provider is asked.
    const refresh = (vault: string, path: string, share?: string, query = "") =>
      admin.post(`/v1/vaults/${vault}/secret-refresh/${path}${query}`, undefined, { headers: shareHeader(share) });
    assertProblem(await refresh(vaultId, "n/0000"), 409, "not_client_custody");
    const clientVault = await vaultWith("2of3_client_custody", "refresh refusals");
    const [held] = await written(clientVault, "h", 1);
    assertProblem(await refresh(clientVault, "h/0000"), 400, "client_share_required");
    assertProblem(await refresh(clientVault, "h/0000", "not a share"), 400, "client_share_malformed");
    assertProblem(await refresh(clientVault, "h/none", held!.share), 404, "secret_not_found");
    assertProblem(await refresh(clientVault, "h/0000", held!.share, "?version=0"), 400, "invalid_version");
    assertProblem(await refresh(clientVault, "h/0000", held!.share, "?version=2"), 404, "secret_not_found");
    assert.equal((await admin.delete(`/v1/vaults/${clientVault}/secrets/h/0000`)).status, 204);
    assertProblem(await refresh(clientVault, "h/0000", held!.share, "?version=1"), 410, "secret_deleted");

    const agent = await createAgent(admin, { name: "lifecycle-bot", vault_ids: [vaultId] });
    const bot = api(deployment.server.url, (await agentToken(deployment.server.url, agent.api_key, agent.agent.id)).access_token);
    for (const call of ["rotate", "refresh"] as const) assertProblem(await postJob(bot, vaultId, call), 403, "forbidden");
  });

  test("multi-HSM replacement re-splits onto the new slot set; posting it again answers the same job", async () => {
    const vaultId = await vaultWith("2of3_multi_hsm", "replace hsm");
    const secrets = await written(vaultId, "m", 4);
    const gcpKek = (await vaultKeks(sql, vaultId)).gcp!;
    const job = await runJob(vaultId, "replace-provider", { from: "gcp", to: "spare" });
    assert.deepEqual([job.kind, job.status, job.processed], ["replace_provider", "completed", 4]);
    assert.deepEqual((await admin.get(`/v1/vaults/${vaultId}`)).body.mpc_providers, ["spare", "aws", "azure"]);
    const rows = await shareRows(sql, vaultId);
    assert.deepEqual([...new Set(rows.map((r) => r.provider))].sort(), ["aws", "azure", "spare"]);
    assert.deepEqual(rows.filter((r) => r.provider === "spare").map((r) => r.share_index), [1, 1, 1, 1]);
    assert.ok(disabledKeks(config.keyFiles.gcp!).includes(gcpKek), "the gcp KEK of the vault is not disabled");
    await assertAllRead(admin, vaultId, secrets, "after replacement");
    const again = await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" });
    assert.equal(assertStarted(again, "replace-provider", vaultId), job.id);
    assert.equal(again.body.status, "completed");
  });

  for (const mode of ["2of2_client_custody", "2of3_client_custody", "2of3_client_required"] as const) {
    test(`${mode}: replacement with the old slot answering re-wraps; the client shares keep working; secret-refresh re-splits`, async () => {
      const vaultId = await vaultWith(mode, `replace ${mode}`);
      const secrets = await written(vaultId, "c", 3);
      const job = await runJob(vaultId, "replace-provider", { from: "gcp", to: "spare" });
      assert.deepEqual([job.status, job.processed], ["completed", 3]);
      const holders = MODES[mode].map((h) => (h === "gcp" ? "spare" : h));
      assert.deepEqual((await admin.get(`/v1/vaults/${vaultId}`)).body.mpc_providers, holders);
      await assertAllRead(admin, vaultId, secrets, "the same client shares after the replacement");
      for (const v of await versionRows(sql, vaultId)) {
        assert.deepEqual(v.mpc_providers, holders);
        assert.deepEqual(v.mpc_commitment_providers, [...MODES[mode]], "the commitment binds the holders of the split");
      }
      assert.deepEqual([...new Set((await shareRows(sql, vaultId)).map((r) => r.provider))].sort(), holders.filter((h) => h !== "client").sort());
      // A rotation after it keeps the split (and the commitment's holders).
      assert.equal((await runJob(vaultId, "rotate")).status, "completed");
      await assertAllRead(admin, vaultId, secrets, "after a rotation on top");
      // A client's refresh re-splits under the current holders: a new share, the old one refused.
      const [first] = secrets;
      const refreshed = await admin.post(`/v1/vaults/${vaultId}/secret-refresh/${first!.path}`, undefined, { headers: shareHeader(first!.share) });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.deepEqual(Object.keys(refreshed.body).sort(), ["client_share", "version"]);
      assert.equal(refreshed.headers.get("cache-control"), "no-store");
      sensitive.push(refreshed.body.client_share);
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secrets/${first!.path}`, { headers: shareHeader(first!.share) }), 400, "client_share_invalid");
      await assertAllRead(admin, vaultId, [{ ...first!, share: refreshed.body.client_share }, ...secrets.slice(1)], "after a refresh");
      const row = (await versionRows(sql, vaultId)).find((v) => v.path === first!.path)!;
      assert.equal(row.mpc_commitment_providers, null);
    });
  }

  test("one job at a time: a job mid-way refuses the others, answers its own call, and reads and writes go on", async () => {
    const vaultId = await vaultWith("2of3_multi_hsm", "busy");
    const secrets = await written(vaultId, "b", 120);
    const jobId = assertStarted(await postJob(admin, vaultId, "rotate"), "rotate", vaultId);
    // Waits after its second batch (100 of 120 versions) until the server stops.
    const paused = await waitForJob(admin, vaultId, jobId, (j) => j.processed === 100);
    assert.deepEqual([paused.status, paused.total], ["running", 120]);

    assertProblem(await postJob(admin, vaultId, "refresh"), 409, "job_unfinished");
    assertProblem(await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" }), 409, "job_unfinished");
    const same = await postJob(admin, vaultId, "rotate");
    assert.equal(assertStarted(same, "rotate", vaultId), jobId);
    const key = cmekKey();
    assert.equal((await admin.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: key.fingerprint })).status, 200);
    const next = cmekKey();
    const cmek = await admin.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: next.fingerprint }, {
      headers: { "x-cmek-old-key": key.b64, "x-cmek-new-key": next.b64 },
    });
    assertProblem(cmek, 409, "vault_job_running");
    assert.equal((await admin.delete(`/v1/vaults/${vaultId}/cmek`)).status, 200);

    // Reads of moved and unmoved versions, and a write: under the new generation and KEKs.
    await assertAllRead(admin, vaultId, secrets, "while the rotation waits mid-way");
    const [late] = await written(vaultId, "late", 1);
    const keks = await vaultKeks(sql, vaultId);
    const lateRow = (await versionRows(sql, vaultId)).find((v) => v.path === late!.path)!;
    assert.equal(lateRow.mpc_generation, 2);
    for (const r of (await shareRows(sql, vaultId)).filter((r) => r.version_id === lateRow.id)) assert.equal(r.kek_id, keks[r.provider]);
    const generations = (await versionRows(sql, vaultId)).map((v) => v.mpc_generation);
    assert.deepEqual([generations.filter((g) => g === 2).length, generations.filter((g) => g === 1).length], [101, 20]);

    // A graceful restart ends the wait; the new server picks the job up and completes it.
    await deployment.servers.at(-1)!.stop();
    const server = await deployment.restart({ env: { SHARDVAULT_CONFIG: config.path, SHARDVAULT_JOB_PAUSE_AFTER_BATCHES: "2" } });
    admin = api(server.url, server.adminKey);
    const done = await waitForJob(admin, vaultId, jobId);
    assert.deepEqual([done.status, done.total, done.processed], ["completed", 120, 120]);
    await assertAllRead(admin, vaultId, [...secrets, late!], "after the restart");
  });

  test("a lifecycle job while a CMEK rotation runs on the vault is 409 vault_job_running", async () => {
    const vaultId = await vaultWith("2of3_multi_hsm", "cmek busy");
    const key = cmekKey();
    assert.equal((await admin.post(`/v1/vaults/${vaultId}/cmek`, { fingerprint: key.fingerprint })).status, 200);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < 210; i = next++) {
          const res = await admin.put(`/v1/vaults/${vaultId}/secrets/c/${i}`, { value: cmekEncrypt(key, `v${i}`) });
          assert.equal(res.status, 201, res.text);
        }
      }),
    );
    const newKey = cmekKey();
    const started = await admin.post(`/v1/vaults/${vaultId}/cmek-rotate`, { new_fingerprint: newKey.fingerprint }, {
      headers: { "x-cmek-old-key": key.b64, "x-cmek-new-key": newKey.b64 },
    });
    assert.equal(started.status, 202, started.text);
    // CMEK batches are 100 versions: it waits after 200 of 210.
    for (let i = 0; i < 4000; i++) {
      const job = await admin.get(`/v1/vaults/${vaultId}/cmek-rotate/${started.body.id}`);
      if (job.body.processed === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const call of ["rotate", "refresh"] as const) assertProblem(await postJob(admin, vaultId, call), 409, "vault_job_running");
    assertProblem(await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" }), 409, "vault_job_running");
  });

  test("no secret value, client share or API key in the server output", () => {
    for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
  });
});
