/**
 * The server never rebuilds a client-custody DEK without the client's share, even where the mode's provider
 * slots together hold enough shares (2of3_client_custody: gcp + aws), and enabling MPC waits for the jobs
 * that re-read a vault's protection batch by batch (services composed in-process, on PGlite and PostgreSQL):
 *
 * - the envelope itself answers 400 client_share_required for a version of either client-custody mode
 *   opened without the share, before any provider is called;
 * - enabling MPC while a CMEK rotation runs on the vault (held between two batches) is 409
 *   vault_job_running, changes nothing, and the rotation then completes;
 * - a rotation whose runner is gone (stopped mid-way, its keys gone with it) no longer holds enabling MPC back;
 *   once the vault has turned to client custody, posting the rotation again is refused (409
 *   rotation_needs_client_shares) and its remaining secrets are not re-encrypted: they open with the old key
 *   only.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError } from "../src/errors.js";
import type { Database } from "../src/db/database.js";
import { recoverVersionDek, vaultProtection } from "../src/envelope/protection.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { findMpcState, findVersion } from "../src/secrets/secret-queries.js";
import { findVaultById } from "../src/vaults/vault-queries.js";
import { DATABASE_KINDS } from "./support/harness.js";
import { cmekDecrypt, cmekEncrypt, cmekKey, type CmekKey } from "./support/cmek.js";
import { composeInProcess, type InProcess } from "./support/in-process.js";
import { skipReasonFor } from "./support/postgres.js";
import { LatencyTracker } from "../src/envelope/latency.js";

/** Holds the `n`th query of the given text until released; every other query passes. */
function holdQuery(text: string, n: number) {
  let seen = 0;
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const holding = new Promise<void>((resolve) => (reached = resolve));
  const wrap = (db: Database): Database => ({
    ...db,
    async query<T>(sql: string, params?: readonly unknown[]) {
      if (sql === text && ++seen === n) {
        reached();
        await released;
      }
      return db.query<T>(sql, params);
    },
  });
  return { wrap, holding, release };
}

/** Counts a slot's unwrap calls. */
function countUnwraps(counts: Map<string, number>) {
  return (provider: KeyProvider): KeyProvider => ({
    ...provider,
    unwrap(...args) {
      counts.set(provider.slot, (counts.get(provider.slot) ?? 0) + 1);
      return provider.unwrap(...args);
    },
  });
}

// The vault lookup a rotation batch starts with (vaults/vault-queries.ts findVaultById): holding its second
// occurrence holds the job after its first batch committed and before the second reads the vault's protection.
const BATCH_VAULT_LOOKUP =
  "SELECT id, org_id, name, description, created_by, created_by_type, kek_slot, kek_id, mpc_custody, mpc_threshold, mpc_providers, mpc_generation, cmek_fingerprint, created_at FROM vaults WHERE id = $1";

interface Written {
  path: string;
  plaintext: string;
}

async function cmekVault(app: InProcess, name: string, key: CmekKey, count: number): Promise<{ vaultId: string; written: Written[] }> {
  const vault = await app.vaults.create(app.principal, { name });
  await app.cmek.enable(app.principal, vault.id, { fingerprint: key.fingerprint });
  const written: Written[] = [];
  for (let i = 0; i < count; i++) {
    const path = `switch/${String(i).padStart(3, "0")}`;
    const plaintext = `plain-${name}-${i}`;
    await app.secrets.write(app.principal, vault.id, path, { value: Buffer.from(cmekEncrypt(key, plaintext), "latin1") });
    written.push({ path, plaintext });
  }
  return { vaultId: vault.id, written };
}

/** Waits for the runner to end the job (read from the table). */
async function waitForJob(app: InProcess, jobId: string) {
  for (;;) {
    const [job] = await app.db.query<{ status: string; processed: number; error: string | null }>("SELECT status, processed, error FROM jobs WHERE id = $1", [jobId]);
    if (job!.status === "completed" || job!.status === "failed") return job!;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Which key a version's CMEK blob opens with now. */
async function openedWith(app: InProcess, vaultId: string, w: Written, keys: Record<string, CmekKey>, clientShare?: string): Promise<string[]> {
  const read = await app.secrets.read(app.principal, vaultId, w.path, clientShare ? { clientShare } : {});
  const blob = read.value.toString("latin1");
  return Object.entries(keys)
    .filter(([, key]) => {
      try {
        return cmekDecrypt(key, blob).toString("utf8") === w.plaintext;
      } catch {
        return false;
      }
    })
    .map(([name]) => name);
}

async function assertRejectsWith(promise: Promise<unknown>, status: number, code: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, code, error.detail);
    assert.equal(error.status, status);
    return true;
  });
}

for (const kind of DATABASE_KINDS) {
  describe(`mpc-client-share-required on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    test("the envelope refuses a client-custody version opened without the client's share, before any provider call", async () => {
      const unwraps = new Map<string, number>();
      const app = await composeInProcess(kind, { wrapProvider: countUnwraps(unwraps) });
      try {
        for (const name of ["2of2_client_custody", "2of3_client_custody"]) {
          const vault = await app.vaults.create(app.principal, { name }, app.mpc.resolve({ custody_mode: name })!);
          await app.secrets.write(app.principal, vault.id, "env/one", { value: Buffer.from("the value") });
          const row = (await findVersion(app.db, vault.id, "env/one"))!;
          const stored = { commitment: row.dek_commitment, wrappedDek: row.wrapped_dek, kekSlot: row.kek_slot, kekId: row.kek_id, ...(await findMpcState(app.db, row.id)) };
          const protection = await vaultProtection(app.db, app.providers, (await findVaultById(app.db, vault.id))!, "read");
          unwraps.clear();
          const opts = { latency: new LatencyTracker(), onCorruptShare: () => assert.fail("no share was met") };
          await assertRejectsWith(recoverVersionDek(protection, app.providers, { vaultId: vault.id, path: "env/one", version: row.version }, stored, opts), 400, "client_share_required");
          assert.deepEqual([...unwraps], [], `${name}: a provider was asked for a share`);
        }
      } finally {
        await app.close();
      }
    });

    describe("a CMEK rotation and enabling client-custody MPC on the same vault", () => {
      let app: InProcess;
      let hold: ReturnType<typeof holdQuery>;
      const oldKey = cmekKey();
      const newKey = cmekKey();
      const keys = { old: oldKey, new: newKey };

      before(async () => {
        // The vault's second batch lookup is held; each test makes one vault and one rotation.
        hold = holdQuery(BATCH_VAULT_LOOKUP, 2);
        app = await composeInProcess(kind, { wrapDatabase: hold.wrap });
      });
      after(() => app?.close());

      test("enabling MPC while the rotation runs is 409 vault_job_running; the rotation completes; the vault stays plain", async () => {
        const { vaultId, written } = await cmekVault(app, "busy", oldKey, 150);
        const job = await app.cmek.startRotation(app.principal, vaultId, { new_fingerprint: newKey.fingerprint }, { oldKey: oldKey.b64, newKey: newKey.b64 });
        await hold.holding;
        assert.equal((await app.cmek.job(app.principal, vaultId, job.id)).processed, 100, "held after the first batch");
        await assertRejectsWith(app.mpc.enable(app.principal, vaultId, { custody_mode: "2of3_client_custody" }), 409, "vault_job_running");
        hold.release();
        const done = await waitForJob(app, job.id);
        assert.equal(done.status, "completed", JSON.stringify(done));
        assert.equal(done.processed, 150);
        const vault = (await findVaultById(app.db, vaultId))!;
        assert.equal(vault.mpc_custody, null, "MPC was enabled underneath the rotation");
        for (const w of [written[0]!, written[149]!]) assert.deepEqual(await openedWith(app, vaultId, w, keys), ["new"], w.path);
      });
    });

    describe("a rotation whose runner is gone, and a vault turned to client custody", () => {
      let app: InProcess;
      const oldKey = cmekKey();
      const newKey = cmekKey();
      const keys = { old: oldKey, new: newKey };

      before(async () => {
        // Jobs wait after their first batch until the runner stops.
        app = await composeInProcess(kind, { jobPauseAfterBatches: 1 });
      });
      after(() => app?.close());

      test("enabling MPC is no longer held back; the rotation is not resumed without client shares; the rest keeps the old key", async () => {
        const { vaultId, written } = await cmekVault(app, "switched", oldKey, 150);
        const job = await app.cmek.startRotation(app.principal, vaultId, { new_fingerprint: newKey.fingerprint }, { oldKey: oldKey.b64, newKey: newKey.b64 });
        for (let i = 0; i < 1000 && (await app.cmek.job(app.principal, vaultId, job.id)).processed < 100; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        await assertRejectsWith(app.mpc.enable(app.principal, vaultId, { custody_mode: "2of3_client_custody" }), 409, "vault_job_running");
        // The runner stops (as its process would die): the job stays unfinished, its keys are gone.
        await app.jobs.stop();
        assert.deepEqual((await app.db.query("SELECT status, processed FROM jobs WHERE id = $1", [job.id]))[0], { status: "running", processed: 100 });
        const enabled = await app.mpc.enable(app.principal, vaultId, { custody_mode: "2of3_client_custody" });
        const shares = new Map(enabled.client_shares!.map((s) => [s.path, s.client_share]));
        assert.equal(shares.size, 150);
        await assertRejectsWith(
          app.cmek.startRotation(app.principal, vaultId, { new_fingerprint: newKey.fingerprint }, { oldKey: oldKey.b64, newKey: newKey.b64 }),
          409,
          "rotation_needs_client_shares",
        );
        const after = await app.cmek.job(app.principal, vaultId, job.id);
        assert.deepEqual([after.status, after.processed], ["failed", 100], JSON.stringify(after));
        // The first batch was rotated before the switch; the rest still open with the old key only.
        assert.deepEqual(await openedWith(app, vaultId, written[0]!, keys, shares.get(written[0]!.path)), ["new"]);
        for (const w of written.slice(100)) assert.deepEqual(await openedWith(app, vaultId, w, keys, shares.get(w.path)), ["old"], w.path);
      });
    });
  });
}
