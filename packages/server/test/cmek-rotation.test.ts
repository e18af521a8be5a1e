/**
 * CMEK key rotation (`POST /v1/vaults/{id}/cmek-rotate`, `GET …/cmek-rotate/{job_id}`) over real HTTP, on
 * PGlite with the local provider slots and on PostgreSQL:
 *
 * - refusals, each leaving the vault and its values as they were: a key not matching its fingerprint, a
 *   malformed key header, a missing header, a malformed new fingerprint, a vault without CMEK, unknown jobs;
 * - rotating to the key already in use is refused (400 cmek_same_key) and starts nothing;
 * - over 250 secrets (3 batches of 100): 202 with a job and its Location, the job's documented fields, the
 *   job completes, and every version then opens with the new key only, to its original plaintext;
 * - posting the same rotation again while it runs answers the same job (202) and does not run it twice
 *   (processed never exceeds the total);
 * - posting it again after it completed (a client retrying a lost 202) answers the completed job (202), not a
 *   key mismatch;
 * - the server keeps answering while it rotates: a job polled back to back shows 0 < processed < total;
 * - kill -9 in the middle (0 < processed < total), restart on the same data, post the same rotation again: it
 *   resumes the same job and completes; every version opens once with the new key to its original plaintext
 *   (none was double-encrypted, none skipped), and none with the old key. The interrupted state is consistent:
 *   exactly `processed` versions (whole batches) are under the new key. The kill is triggered by a poll that
 *   shows the job mid-way (the stored job is checked after the restart, and a kill that landed too late is
 *   retried with more secrets);
 * - a version that does not open with the old key fails the job, names the version, changes nothing of its
 *   batch; once it is gone, posting again completes;
 * - the keys never appear in the server output, the audit log, or any column of any row (and, on PGlite, in
 *   any file of the data folder).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { scanFiles, scanTables, secretUrl } from "./support/mpc-support.js";
import {
  assertJobShape,
  cmekDecrypt,
  cmekEncrypt,
  cmekKey,
  cmekOpens,
  enableCmek,
  getJob,
  keyNeedles,
  keyStrings,
  postRotation,
  readBlob,
  readMany,
  rotateUrl,
  waitForJob,
  withStoredRows,
  writeMany,
  type CmekKey,
  type RotationJob,
  type Written,
} from "./support/cmek.js";

/** Every value of `written` opens with `newKey` exactly once, to its plaintext, and not with `oldKey`. */
async function assertRotated(admin: Api, vaultId: string, written: readonly Written[], oldKey: CmekKey, newKey: CmekKey, context: string): Promise<void> {
  const blobs = await readMany(admin, vaultId, written.map((w) => w.path));
  const problems: string[] = [];
  written.forEach((w, i) => {
    const got = blobs[i]!;
    if (cmekOpens(oldKey, got)) problems.push(`${w.path}: opens with the old key`);
    let plaintext: Buffer | undefined;
    try {
      plaintext = cmekDecrypt(newKey, got);
    } catch {
      problems.push(`${w.path}: does not open with the new key`);
      return;
    }
    // Decrypted once, the original plaintext: not another CMEK blob (double encryption) nor anything else.
    if (plaintext.toString("utf8") !== w.plaintext) {
      const twice = cmekOpens(newKey, plaintext.toString("latin1")) || cmekOpens(oldKey, plaintext.toString("latin1"));
      problems.push(`${w.path}: decrypts to ${twice ? "another CMEK blob (double-encrypted)" : "something else"}`);
    }
  });
  assert.deepEqual(problems.slice(0, 20), [], `${context}: ${problems.length} of ${written.length} versions wrong`);
}

for (const kind of DATABASE_KINDS) {
  describe(`cmek-rotation on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    /** The current server's admin client (replaced after a restart). */
    let admin: Api;
    const keys: CmekKey[] = [];
    const sensitive: string[] = [];
    const key = (): CmekKey => {
      const k = cmekKey();
      keys.push(k);
      sensitive.push(...keyStrings(k));
      return k;
    };
    const track = (written: Written[]) => {
      sensitive.push(...written.map((w) => w.plaintext));
      return written;
    };

    async function cmekVault(name: string, k: CmekKey): Promise<string> {
      const res = await admin.post("/v1/vaults", { name });
      assert.equal(res.status, 201, res.text);
      await enableCmek(admin, res.body.id, k);
      return res.body.id;
    }

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("refusals: mismatched, malformed or missing keys, bad new fingerprint, no CMEK, unknown job; nothing changes", async () => {
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault("refusals", oldKey);
      const written = track(await writeMany(admin, vaultId, oldKey, 3, "refuse", 3));
      const stranger = key();
      const b64 = (n: number) => Buffer.alloc(n, 0x5a).toString("base64");
      // A key whose base64 has '+' or '/', to spell it url-safe.
      let urlKey = cmekKey();
      while (!/[+/]/.test(urlKey.b64)) urlKey = cmekKey();
      keys.push(urlKey);
      const malformed: Array<[string, string]> = [
        ["not base64", "not a key at all!"],
        ["31 bytes", b64(31)],
        ["33 bytes", b64(33)],
        ["64 bytes", b64(64)],
        ["empty", ""],
        ["url-safe alphabet", urlKey.bytes.toString("base64url") + "="],
        ["unpadded", oldKey.b64.replace(/=+$/, "")],
        ["hex", oldKey.bytes.toString("hex")],
        ["inner space", `${oldKey.b64.slice(0, 10)} ${oldKey.b64.slice(10)}`],
      ];
      const rotate = (o: CmekKey | string | undefined, n: CmekKey | string | undefined, fp?: string) => postRotation(admin, vaultId, o, n, fp ?? newKey.fingerprint);
      const refusals: Array<[string, () => Promise<any>, number, string]> = [
        ["old key of another fingerprint", () => rotate(stranger, newKey), 400, "cmek_key_mismatch"],
        ["new key not matching new_fingerprint", () => rotate(oldKey, stranger), 400, "cmek_key_mismatch"],
        ["keys swapped", () => rotate(newKey, oldKey), 400, "cmek_key_mismatch"],
        ...malformed.map(([label, h]): [string, () => Promise<any>, number, string] => [`old key ${label}`, () => rotate(h, newKey), 400, "cmek_key_malformed"]),
        ...malformed.map(([label, h]): [string, () => Promise<any>, number, string] => [`new key ${label}`, () => rotate(oldKey, h), 400, "cmek_key_malformed"]),
        ["both headers missing", () => rotate(undefined, undefined), 400, "validation_error"],
        ["old key header missing", () => rotate(undefined, newKey), 400, "validation_error"],
        ["new key header missing", () => rotate(oldKey, undefined), 400, "validation_error"],
        ["new_fingerprint missing", () => admin.post(rotateUrl(vaultId), {}, { headers: { "x-cmek-old-key": oldKey.b64, "x-cmek-new-key": newKey.b64 } }), 400, "validation_error"],
        ["new_fingerprint uppercase", () => rotate(oldKey, newKey, newKey.fingerprint.toUpperCase()), 400, "validation_error"],
        ["new_fingerprint short", () => rotate(oldKey, newKey, newKey.fingerprint.slice(2)), 400, "validation_error"],
      ];
      // One at a time: a refusal must not depend on another request racing it.
      for (const [label, send, status, code] of refusals) {
        const res = await send();
        assertProblem(res, status, code, undefined, label);
        assert.equal(res.headers.get("location"), null, label);
      }
      // Nothing changed: the vault still has the old key, values still open with it, no rotation ran.
      const vault = await admin.get(`/v1/vaults/${vaultId}`);
      assert.equal(vault.body.cmek_fingerprint, oldKey.fingerprint, "a refused rotation changed the vault's key");
      for (const w of written) {
        const got = await readBlob(admin, vaultId, w.path);
        assert.equal(got, w.blob, `${w.path} changed after refused rotations`);
      }
      const audit = await admin.get(`/v1/audit/events?resource_id=${vaultId}&action=vault.cmek_rotate&limit=100`);
      assert.equal(audit.body.events.length, 0, "a refused rotation was audited as started");
      // Writes still take blobs (under the old key, as far as the client knows).
      assert.equal((await admin.put(secretUrl(vaultId, "refuse/after"), { value: cmekEncrypt(oldKey, "after") })).status, 201);

      // A vault without CMEK: 409.
      const plainVault = (await admin.post("/v1/vaults", { name: "no-cmek" })).body.id;
      assertProblem(await postRotation(admin, plainVault, oldKey, newKey), 409, "cmek_not_enabled");
      // Unknown jobs: 404, also a job id of another vault.
      assert.equal((await getJob(admin, vaultId, "00000000-0000-4000-8000-000000000000")).status, 404);
      assert.equal((await getJob(admin, vaultId, "not-a-uuid")).status, 404);
    });

    test("rotating to the key already in use is refused (400 cmek_same_key) and starts nothing", async () => {
      const k = key();
      const vaultId = await cmekVault("same-key", k);
      const written = track(await writeMany(admin, vaultId, k, 3, "same", 3));
      const res = await postRotation(admin, vaultId, k, k);
      assertProblem(res, 400, "cmek_same_key");
      assert.equal(res.headers.get("location"), null);
      const audit = await admin.get(`/v1/audit/events?resource_id=${vaultId}&action=vault.cmek_rotate&limit=100`);
      assert.equal(audit.body.events.length, 0, "a refused rotation was audited as started");
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint, k.fingerprint);
      for (const w of written) assert.equal(cmekDecrypt(k, await readBlob(admin, vaultId, w.path)).toString("utf8"), w.plaintext);
    });

    test("rotation over 250 secrets (3 batches) completes; every version opens with the new key only", async () => {
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault("rotate-250", oldKey);
      const written = track(await writeMany(admin, vaultId, oldKey, 250, "r250"));

      const started = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(started.status, 202, started.text);
      assertJobShape(started.body, "202 answer");
      const job = started.body as RotationJob;
      assert.equal(job.vault_id, vaultId);
      assert.equal(job.old_fingerprint, oldKey.fingerprint);
      assert.equal(job.new_fingerprint, newKey.fingerprint);
      assert.equal(job.total_secrets, 250);
      assert.ok(["pending", "running", "completed"].includes(job.status), job.status);
      const location = started.headers.get("location");
      assert.equal(location, `/v1/vaults/${vaultId}/cmek-rotate/${job.id}`);
      const viaLocation = await admin.get(location!);
      assert.equal(viaLocation.status, 200, viaLocation.text);
      assertJobShape(viaLocation.body, "GET Location");
      assert.equal(viaLocation.body.id, job.id);
      // From the start, new writes belong to the new key.
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint, newKey.fingerprint);

      const done = await waitForJob(admin, vaultId, job.id);
      assert.equal(done.status, "completed", JSON.stringify(done));
      assert.equal(done.processed, 250);
      assert.equal(done.total_secrets, 250);
      assert.ok(!("error" in done), JSON.stringify(done));
      assert.ok(done.started_at && done.completed_at, JSON.stringify(done));
      assert.ok(Date.parse(done.completed_at) >= Date.parse(done.started_at), JSON.stringify(done));
      assert.ok(Date.parse(done.started_at) >= Date.parse(done.created_at) - 1000, JSON.stringify(done));
      await assertRotated(admin, vaultId, written, oldKey, newKey, "after rotation");
      // Still exactly one version per path.
      const list = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=r250`);
      assert.equal(list.body.secrets.length, 250);
      assert.ok(list.body.secrets.every((x: any) => x.version === 1), "the rotation added versions");
      // Audited, naming the job and the new fingerprint.
      const audit = await admin.get(`/v1/audit/events?resource_id=${vaultId}&action=vault.cmek_rotate&limit=100`);
      assert.equal(audit.body.events.length, 1, audit.text);
      assert.equal(audit.body.events[0].details.job_id, job.id);
      assert.equal(audit.body.events[0].details.new_fingerprint, newKey.fingerprint);
      // Another rotation onwards works (the new key is now the old one).
      const third = key();
      const again = await postRotation(admin, vaultId, newKey, third);
      assert.equal(again.status, 202, again.text);
      assert.notEqual(again.body.id, job.id);
      const done2 = await waitForJob(admin, vaultId, again.body.id);
      assert.equal(done2.status, "completed", JSON.stringify(done2));
      assert.equal(done2.processed, 250);
      await assertRotated(admin, vaultId, written.slice(0, 20), newKey, third, "second rotation");
    });

    test("posting the same rotation again while it runs answers its job and does not run it twice", async () => {
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault("double-post", oldKey);
      const written = track(await writeMany(admin, vaultId, oldKey, 300, "dbl"));
      const first = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(first.status, 202, first.text);
      // The same rotation posted again answers its job (running, or completed if it finished meanwhile).
      const second = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(second.status, 202, second.text);
      assert.equal(second.body.id, first.body.id, "a second job for the same rotation");
      // Polled without the per-poll shape check, so that the values are checked before the counter.
      let done: RotationJob | undefined;
      let maxProcessed = 0;
      for (let i = 0; i < 6000 && !(done && (done.status === "completed" || done.status === "failed")); i++) {
        const polled = await getJob(admin, vaultId, first.body.id);
        assert.equal(polled.status, 200, polled.text);
        done = polled.body;
        maxProcessed = Math.max(maxProcessed, done!.processed);
        if (done!.status !== "completed" && done!.status !== "failed") await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(done?.status, "completed", JSON.stringify(done));
      await assertRotated(admin, vaultId, written, oldKey, newKey, "after a double post");
      assert.equal(done!.total_secrets, 300);
      assert.ok(maxProcessed <= done!.total_secrets, `processed reached ${maxProcessed} of ${done!.total_secrets}: the rotation ran twice`);
      assert.equal(done!.processed, done!.total_secrets, JSON.stringify(done));
      assertJobShape(done, "final");
    });

    test("posting a rotation again after it completed answers the completed job, not a key mismatch, and changes nothing", async () => {
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault("post-after-completion", oldKey);
      const written = track(await writeMany(admin, vaultId, oldKey, 5, "again", 5));
      const first = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(first.status, 202, first.text);
      const done = await waitForJob(admin, vaultId, first.body.id);
      assert.equal(done.status, "completed");
      // A client that lost the 202 (a timeout, a crash) retries the very same request.
      const retry = await postRotation(admin, vaultId, oldKey, newKey);
      await assertRotated(admin, vaultId, written, oldKey, newKey, "after the retry");
      // The old key is right for this rotation: a retry is answered its job, not a mismatch.
      assert.equal(retry.status, 202, retry.text);
      assertJobShape(retry.body, "retried");
      assert.equal(retry.body.id, first.body.id);
      assert.equal(retry.body.status, "completed");
      assert.equal(retry.body.processed, written.length);
    });

    test("the server keeps answering during a rotation: progress is visible (0 < processed < total) before it completes", async () => {
      const oldKey = key();
      const newKey = key();
      const vaultId = await cmekVault("progress", oldKey);
      const written = track(await writeMany(admin, vaultId, oldKey, 1500, "progress"));
      const started = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(started.status, 202, started.text);
      const seen: string[] = [];
      let midway = false;
      for (let i = 0; i < 100_000; i++) {
        const polled = await getJob(admin, vaultId, started.body.id);
        assert.equal(polled.status, 200, polled.text);
        const job = polled.body as RotationJob;
        if (seen.at(-1) !== `${job.status} ${job.processed}`) seen.push(`${job.status} ${job.processed}`);
        if (job.processed > 0 && job.processed < job.total_secrets) midway = true;
        if (job.status === "completed" || job.status === "failed") break;
      }
      const done = await waitForJob(admin, vaultId, started.body.id);
      assert.equal(done.status, "completed");
      assert.ok(midway, `15 batches, polled back to back, and no poll answered before the rotation had finished: ${seen.join(" → ")}`);
      await assertRotated(admin, vaultId, written.slice(0, 100), oldKey, newKey, "progress vault");
    });

    test("kill -9 in the middle of a rotation; restart; posting it again resumes and completes", async (t) => {
      const sizes = [600, 1500, 3000];
      let caught: { vaultId: string; written: Written[]; oldKey: CmekKey; newKey: CmekKey; job: RotationJob; seen: RotationJob } | undefined;
      for (const size of sizes) {
        const oldKey = key();
        const newKey = key();
        const vaultId = await cmekVault(`crash-${size}`, oldKey);
        const written = track(await writeMany(admin, vaultId, oldKey, size, `crash${size}`, 8));
        const started = await postRotation(admin, vaultId, oldKey, newKey);
        assert.equal(started.status, 202, started.text);
        // Poll back to back (the server answers while it rotates: see the progress test); kill the moment a
        // batch has committed and more remain. Whether the kill landed mid-way is checked on the stored job
        // after the restart (a batch may commit between the poll and the kill).
        let seen: RotationJob | undefined;
        let killed = false;
        const current = deployment.servers.at(-1)!;
        for (let i = 0; i < 100_000; i++) {
          const polled = await getJob(admin, vaultId, started.body.id);
          assert.equal(polled.status, 200, polled.text);
          assertJobShape(polled.body, "polled");
          seen = polled.body as RotationJob;
          if (seen.processed > 0 && seen.processed < seen.total_secrets) {
            await current.kill9();
            killed = true;
            break;
          }
          if (seen.status === "completed" || seen.status === "failed") break;
        }
        if (!killed) {
          t.diagnostic(`rotation of ${size} secrets finished before it could be caught mid-way (${JSON.stringify(seen)}); retrying with more`);
          continue;
        }
        const server = await deployment.restart();
        admin = api(server.url, server.adminKey);
        const after = await getJob(admin, vaultId, started.body.id);
        assert.equal(after.status, 200, after.text);
        assertJobShape(after.body, "after restart");
        t.diagnostic(
          `${size} secrets: killed (last seen ${seen!.status} ${seen!.processed}/${seen!.total_secrets}); after the restart the job reads ${after.body.status} ${after.body.processed}/${after.body.total_secrets}`,
        );
        if (after.body.processed > 0 && after.body.processed < after.body.total_secrets) {
          caught = { vaultId, written, oldKey, newKey, job: started.body, seen: after.body };
          break;
        }
        t.diagnostic(`the kill landed after the last batch (${JSON.stringify(after.body)}); retrying with more`);
      }
      assert.ok(caught, `could not kill the server in the middle of a rotation with ${sizes.join(", ")} secrets`);
      const { vaultId, written, oldKey, newKey, job, seen } = caught;

      // The interrupted state is consistent: exactly `processed` versions are under the new key, the rest
      // under the old one (batches are atomic and counted in the same transaction), none under both or neither.
      const blobs = await readMany(admin, vaultId, written.map((w) => w.path));
      let underNew = 0;
      blobs.forEach((b, i) => {
        const n = cmekOpens(newKey, b);
        const o = cmekOpens(oldKey, b);
        assert.ok(n !== o, `${written[i]!.path}: opens with ${n ? "both keys" : "neither key"}`);
        if (n) underNew++;
      });
      assert.equal(underNew, seen.processed, "versions under the new key vs the job's processed count");
      assert.equal(underNew % 100, 0, "a partial batch was committed");

      // Posting the same rotation again, with both keys, resumes the same job.
      const resumed = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(resumed.status, 202, resumed.text);
      assertJobShape(resumed.body, "resumed");
      assert.equal(resumed.body.id, job.id, "resumed as another job");
      const done = await waitForJob(admin, vaultId, resumed.body.id);
      assert.equal(done.status, "completed", JSON.stringify(done));
      assert.equal(done.processed, written.length, JSON.stringify(done));
      assert.equal(done.total_secrets, written.length);
      await assertRotated(admin, vaultId, written, oldKey, newKey, "after resume");
      const list = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=${written[0]!.path.split("/")[0]}`);
      assert.equal(list.body.secrets.length, written.length);
      assert.ok(list.body.secrets.every((x: any) => x.version === 1), "the rotation added versions");
      // Posting it once more after completion answers the completed job and changes nothing.
      const late = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(late.status, 202, late.text);
      assert.equal(late.body.id, job.id);
      assert.equal(late.body.status, "completed");
      await assertRotated(admin, vaultId, written.slice(0, 50), oldKey, newKey, "after posting again");
    });

    test("a version that does not open with the old key fails the job, naming it; its batch is untouched; without it, posting again completes", async () => {
      const oldKey = key();
      const newKey = key();
      const stray = key();
      const vaultId = await cmekVault("stray", oldKey);
      const good = track(await writeMany(admin, vaultId, oldKey, 6, "stray-good", 3));
      // A well-shaped blob under another key: the server cannot tell at write time.
      const strayPlain = "written under a key the vault does not know";
      const w = await admin.put(secretUrl(vaultId, "stray-bad/x"), { value: cmekEncrypt(stray, strayPlain) });
      assert.equal(w.status, 201, w.text);

      const started = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(started.status, 202, started.text);
      const failed = await waitForJob(admin, vaultId, started.body.id);
      assert.equal(failed.status, "failed", JSON.stringify(failed));
      assert.equal(typeof failed.error, "string");
      assert.match(failed.error!, /stray-bad\/x/, "the error names the path");
      assert.match(failed.error!, /\b1\b/, "the error names the version");
      for (const form of keyStrings(oldKey).concat(keyStrings(newKey))) assert.ok(!failed.error!.includes(form));
      assert.equal(failed.processed, 0, "part of a failed batch was counted");
      // Nothing of the batch changed.
      for (const g of good) assert.equal(await readBlob(admin, vaultId, g.path), g.blob, `${g.path} changed in a failed batch`);

      // The client removes the stray secret and posts the same rotation again.
      assert.equal((await admin.delete(secretUrl(vaultId, "stray-bad/x"))).status, 204);
      const again = await postRotation(admin, vaultId, oldKey, newKey);
      assert.equal(again.status, 202, again.text);
      const done = await waitForJob(admin, vaultId, again.body.id);
      assert.equal(done.status, "completed", JSON.stringify(done));
      assert.ok(!("error" in done), `a completed job still carries an error: ${JSON.stringify(done)}`);
      await assertRotated(admin, vaultId, good, oldKey, newKey, "after removing the stray version");
    });

    test("the keys appear in no audit event", async () => {
      const res = await admin.get("/v1/audit/events?limit=1000");
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.events.length > 10);
      const hits = keys.flatMap((k, i) => keyStrings(k).filter((form) => res.text.includes(form)).map(() => `key ${i}`));
      assert.deepEqual(hits, [], "a CMEK key is in the audit log");
      assert.ok(res.body.events.some((e: any) => e.action === "vault.cmek_rotate"));
    });

    test("the server output of every start holds no key, plaintext or API key", () => {
      for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
    });

    test("the keys appear in no column of any row (and, on PGlite, in no file of the data folder)", async () => {
      assert.ok(keys.length >= 10);
      const needles = keys.flatMap((k, i) => keyNeedles(k, `key ${i}`));
      if (kind === "pglite") await deployment.servers.at(-1)!.stop();
      const { hits, tables, rows } = await withStoredRows(deployment, (db) => scanTables(db, needles));
      assert.deepEqual(hits, [], "a CMEK key is stored in the database");
      assert.ok(tables.includes("jobs") && tables.includes("secret_versions") && tables.includes("audit_events"), tables.join(","));
      assert.ok(rows > 2000, `only ${rows} rows scanned`);
      if (kind === "pglite") assert.deepEqual(scanFiles(deployment.server.dataDir, needles), []);
    });
  });
}
