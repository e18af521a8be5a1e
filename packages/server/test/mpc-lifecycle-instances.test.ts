/**
 * A lifecycle job with two instances on one PostgreSQL database (shared key files): instance A starts a
 * rotation of 120 versions and waits after its first batch (SHARDVAULT_JOB_PAUSE_AFTER_BATCHES=1); instance B
 *
 * - serves every read meanwhile, and writes, which land under the new KEKs;
 * - answers the same job to the same call without running it (one runner per job: A still holds it, its
 *   advisory lock is the only one, the job's runner is still A's and nothing more was processed), and refuses
 *   another lifecycle call (409 job_unfinished);
 * - once A is killed with kill -9 (its lock gone with its session), answers the same job to the same call and
 *   takes it over (by that call or by its sweeper, whichever comes first): B pauses its jobs too, so the job is
 *   unfinished when the call is posted, on any machine, and B's run stops after one more batch (100 done);
 * - B stopped, a third instance C (not pausing) completes the job: processed = total, every secret reads, every
 *   share is under its slot's new KEK, the old KEKs are disabled, and the audit log has one start and one end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, provisionLocalKeys, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { allAuditEvents } from "./support/auth-support.js";
import { assertProblem } from "./support/harness.js";
import {
  assertAllRead,
  assertStarted,
  disabledKeks,
  getJob,
  postJob,
  shareRows,
  vaultKeks,
  versionRows,
  waitForJob,
  writeSecrets,
} from "./support/lifecycle.js";

describe("a lifecycle job across two instances on postgres", { skip: await postgresSkipReason() }, () => {
  const keysDir = provisionLocalKeys();
  let deployment: Deployment;
  let a: Api;
  let b: Api;
  let sql: pg.Client;

  const advisoryLocks = async () =>
    (
      await sql.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      )
    ).rows[0].n as number;
  const runnerOf = async (jobId: string) => (await sql.query("SELECT runner, processed FROM jobs WHERE id = $1", [jobId])).rows[0] as { runner: string; processed: number };

  before(async () => {
    deployment = await deploy("postgres", { env: { SHARDVAULT_KEYS_DIR: keysDir, SHARDVAULT_JOB_PAUSE_AFTER_BATCHES: "1" } });
    a = api(deployment.server.url, deployment.server.adminKey);
    const second = await deployment.restart();
    b = api(second.url, second.adminKey);
    sql = await connect(deployment.database!.url);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  test("started on A, served by B meanwhile, taken over by B after A is killed, completed by C; one runner at a time", async () => {
    const created = await a.post("/v1/vaults", { name: "two instances", custody_mode: "2of3_multi_hsm" });
    assert.equal(created.status, 201, created.text);
    const vaultId = created.body.id;
    const secrets = await writeSecrets(a, vaultId, "s", 120);
    const oldKeks = await vaultKeks(sql, vaultId);

    const jobId = assertStarted(await postJob(a, vaultId, "rotate"), "rotate", vaultId);
    const seen = await waitForJob(a, vaultId, jobId, (j) => j.processed === 50);
    assert.equal(seen.status, "running");
    const held = await runnerOf(jobId);
    assert.equal(await advisoryLocks(), 1, "the runner on A holds the job's lock");

    // B serves reads of moved and unmoved versions, and writes under the new layout.
    await assertAllRead(b, vaultId, secrets, "B while A's job waits");
    const late = await writeSecrets(b, vaultId, "late", 5);
    const newKeks = await vaultKeks(sql, vaultId);
    const lateIds = new Set((await versionRows(sql, vaultId)).filter((v) => v.path.startsWith("late/")).map((v) => v.id));
    for (const share of (await shareRows(sql, vaultId)).filter((s) => lateIds.has(s.version_id))) assert.equal(share.kek_id, newKeks[share.provider]);

    // The same call on B answers the job without running it; another call is refused.
    const same = await postJob(b, vaultId, "rotate");
    assert.equal(assertStarted(same, "rotate", vaultId), jobId);
    assert.deepEqual(await runnerOf(jobId), held, "B took over a job A still runs");
    assert.equal(await advisoryLocks(), 1);
    assertProblem(await postJob(b, vaultId, "refresh"), 409, "job_unfinished");
    assert.deepEqual([(await getJob(b, vaultId, jobId)).status, (await getJob(b, vaultId, jobId)).processed], ["running", 50]);

    // A dies; its session, and the lock with it, go.
    await deployment.servers[0]!.kill9();
    // B takes the job over: its sweeper may claim it first (every 10 s), else the same call posted again does;
    // either way that call answers the job, which B's pause keeps unfinished.
    assert.equal(assertStarted(await postJob(b, vaultId, "rotate"), "rotate", vaultId), jobId);
    const resumed = await waitForJob(b, vaultId, jobId, (j) => j.processed >= 100 || j.status !== "running");
    assert.deepEqual([resumed.status, resumed.processed], ["running", 100], "B goes on from A's first batch");
    assert.notEqual((await runnerOf(jobId)).runner, held.runner);
    assert.equal(await advisoryLocks(), 1, "B's runner holds the job's lock");

    // B stops (its job stays running in the table); C, not pausing, picks the job up as it starts.
    await deployment.servers[1]!.stop();
    const third = await deployment.restart({ env: { SHARDVAULT_KEYS_DIR: keysDir } });
    const c = api(third.url, third.adminKey);
    const done = await waitForJob(c, vaultId, jobId);
    assert.deepEqual([done.status, done.total, done.processed], ["completed", 120, 120], JSON.stringify(done));

    await assertAllRead(c, vaultId, [...secrets, ...late], "after the resume");
    for (const share of await shareRows(sql, vaultId)) assert.equal(share.kek_id, newKeks[share.provider], `a share at ${share.provider} under an old KEK`);
    for (const [slot, kek] of Object.entries(oldKeks)) assert.ok(disabledKeks(join(keysDir, `${slot}.key`)).includes(kek), `the old KEK at ${slot} is not disabled`);
    const actions = (await allAuditEvents(c)).filter((e) => e.resource_id === vaultId && e.action.startsWith("mpc.")).map((e) => e.action);
    assert.deepEqual(actions.sort(), ["mpc.rotate_completed", "mpc.rotate_started"]);
  });
});
