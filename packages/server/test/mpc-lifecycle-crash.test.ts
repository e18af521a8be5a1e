/**
 * Every lifecycle job killed with kill -9 mid-way, and resumed, on the embedded database with four local slots.
 * Mid-way is made deterministic by SHARDVAULT_JOB_PAUSE_AFTER_BATCHES=1: the job waits after its first batch
 * (50 of 120 versions), the test sees `processed` 50 and kills the server. For each kind (rotation, refresh,
 * multi-HSM replacement, client-custody replacement):
 *
 * - the stored state after the kill is consistent: exactly the 50 counted versions are at the new layout
 *   generation, with shares as the job leaves them (new KEKs; the new slot instead of the old), the other 70
 *   as they were; the job reads running;
 * - restarted, the server picks the job up before it listens. It restarts with the pause still on, so the job
 *   is unfinished when the same call is posted again, however fast or loaded the machine: posting it answers
 *   the same job, which goes on from the 50 done (100 after its next batch), not from the start. (Without the
 *   pause the job could complete before the call is posted; the same call then starts a new job, as a
 *   rotation or refresh may be run again: README, "Crashes and restarts".)
 * - restarted once more without the pause, it completes with processed = total = 120 (nothing moved twice or
 *   skipped), and every secret reads.
 *
 * Each case starts on a server that pauses its jobs, whatever became of the case before it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, type Api, type ServerHandle } from "./support/harness.js";
import { deploy, type Deployment } from "./support/postgres.js";
import { withStoredRows } from "./support/cmek.js";
import { writeLocalConfig } from "./support/mpc-support.js";
import {
  assertAllRead,
  assertStarted,
  disabledKeks,
  postJob,
  shareRows,
  vaultKeks,
  versionRows,
  waitForJob,
  writeSecrets,
  type LifecycleCall,
  type Secret,
} from "./support/lifecycle.js";

const COUNT = 120;
const BATCH = 50;

interface Case {
  label: string;
  mode: string;
  call: LifecycleCall;
  body?: { from: string; to: string };
}

const CASES: Case[] = [
  { label: "rotation", mode: "2of3_multi_hsm", call: "rotate" },
  { label: "refresh", mode: "2of3_multi_hsm", call: "refresh" },
  { label: "multi-HSM replacement", mode: "2of3_multi_hsm", call: "replace-provider", body: { from: "gcp", to: "spare" } },
  { label: "client-custody replacement", mode: "2of3_client_custody", call: "replace-provider", body: { from: "gcp", to: "spare" } },
];

describe("lifecycle jobs killed with kill -9 mid-way, then resumed", () => {
  const config = writeLocalConfig(["gcp", "aws", "azure", "spare"]);
  const env = { SHARDVAULT_CONFIG: config.path };
  const paused = { ...env, SHARDVAULT_JOB_PAUSE_AFTER_BATCHES: "1" };
  let deployment: Deployment;
  let admin: Api;
  /** The running server, and whether it pauses its jobs. */
  let current: { server: ServerHandle; pausing: boolean };
  const vaults = new Map<string, { id: string; secrets: Secret[] }>();

  /** Stops the running server (gracefully: its jobs stay theirs to resume) and starts one with `pausing`. */
  async function restart(pausing: boolean): Promise<void> {
    await current.server.stop();
    const server = await deployment.restart({ env: pausing ? paused : env });
    current = { server, pausing };
    admin = api(server.url, server.adminKey);
  }

  before(async () => {
    deployment = await deploy("pglite", { env: paused });
    current = { server: deployment.server, pausing: true };
    admin = api(deployment.server.url, deployment.server.adminKey);
    for (const c of CASES) {
      const res = await admin.post("/v1/vaults", { name: c.label, custody_mode: c.mode });
      assert.equal(res.status, 201, res.text);
      vaults.set(c.label, { id: res.body.id, secrets: await writeSecrets(admin, res.body.id, "k", COUNT) });
    }
  });

  after(async () => {
    await deployment?.dispose();
  });

  for (const c of CASES) {
    test(`${c.label}: killed after its first batch, consistent, resumed to completion`, async () => {
      if (!current.pausing) await restart(true);
      const { id: vaultId, secrets } = vaults.get(c.label)!;
      /** Rotation: the KEKs the unmoved versions still use, by slot (disabled once the job completes). */
      const retired = new Map<string, string>();
      const jobId = assertStarted(await postJob(admin, vaultId, c.call, c.body), c.call, vaultId);
      const seen = await waitForJob(admin, vaultId, jobId, (j) => j.processed >= BATCH || j.status !== "running");
      assert.deepEqual([seen.status, seen.total, seen.processed], ["running", COUNT, BATCH], "paused after its first batch");
      await current.server.kill9();

      await withStoredRows(deployment, async (db) => {
        const job = (await db.query("SELECT status, processed, total FROM jobs WHERE id = $1", [jobId])).rows[0];
        assert.deepEqual([job.status, job.processed, job.total], ["running", BATCH, COUNT]);
        const versions = await versionRows(db, vaultId);
        const moved = new Set(versions.filter((v) => v.mpc_generation === 2).map((v) => v.id));
        assert.equal(moved.size, BATCH, "versions at the new generation vs the job's count");
        assert.equal(versions.filter((v) => v.mpc_generation === 1).length, COUNT - BATCH);
        const keks = await vaultKeks(db, vaultId);
        const shares = await shareRows(db, vaultId);
        const slots = (id: string) => shares.filter((s) => s.version_id === id).map((s) => s.provider).join(",");
        for (const v of versions) {
          const isMoved = moved.has(v.id);
          if (c.call === "replace-provider") {
            const holders = c.mode === "2of3_multi_hsm" ? ["gcp", "aws", "azure"] : ["gcp", "aws"];
            assert.equal(slots(v.id), (isMoved ? holders.map((h) => (h === "gcp" ? "spare" : h)) : holders).join(","), `${v.path}: share slots`);
            assert.deepEqual(v.mpc_providers[0], isMoved ? "spare" : "gcp");
          } else {
            assert.equal(shares.filter((s) => s.version_id === v.id).length, 3, `${v.path}: three shares`);
          }
          if (c.call === "rotate") {
            for (const s of shares.filter((s) => s.version_id === v.id)) {
              assert.equal(s.kek_id === keks[s.provider], isMoved, `${v.path}: a share at ${s.provider} under the ${isMoved ? "old" : "new"} KEK`);
              if (!isMoved) retired.set(s.provider, s.kek_id);
            }
          }
        }
      });

      // Restarted with the pause: the job, claimed again before the server listens, stays unfinished.
      const resumed = await deployment.restart({ env: paused });
      current = { server: resumed, pausing: true };
      admin = api(resumed.url, resumed.adminKey);
      const again = await postJob(admin, vaultId, c.call, c.body);
      assert.equal(assertStarted(again, c.call, vaultId), jobId, "posting the same call again answers the same job");
      assert.equal(again.body.status, "running", again.text);
      const next = await waitForJob(admin, vaultId, jobId, (j) => j.processed >= 2 * BATCH || j.status !== "running");
      assert.deepEqual([next.status, next.processed], ["running", 2 * BATCH], "the resumed job goes on from its first batch");

      await restart(false);
      const done = await waitForJob(admin, vaultId, jobId);
      assert.deepEqual([done.status, done.total, done.processed], ["completed", COUNT, COUNT], JSON.stringify(done));
      await assertAllRead(admin, vaultId, secrets, `${c.label} after the resume`);
      if (c.call === "replace-provider") {
        assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.mpc_providers[0], "spare");
      }
      if (c.call === "rotate") {
        assert.deepEqual([...retired.keys()].sort(), ["aws", "azure", "gcp"]);
        for (const [slot, kek] of retired) assert.ok(disabledKeks(config.keyFiles[slot]!).includes(kek), `the old KEK at ${slot} is not disabled`);
      }

    });
  }
});
