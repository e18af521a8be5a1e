/**
 * CMEK on a vault (fingerprint only; the key stays with the client) and key rotation. Rotation is the one
 * time the server sees the keys: a job (on the job runner) re-encrypts every live CMEK version from the old
 * key to the new one in batches of 100, each batch atomic; the keys live only in this process's memory while
 * the job runs and are wiped after. A restart interrupts the job (the keys are gone with the process): a job
 * whose runner is gone is reported failed, and posting the same rotation again resumes it where it stopped.
 */
import type { CmekRotationJob } from "@shardvault/api";
import { CryptoError, open, seal, wipe } from "@shardvault/crypto";
import type { AuditLog } from "../audit/audit.js";
import type { Principal } from "../auth/principal.js";
import type { Plan } from "../config/deployment.js";
import type { Database } from "../db/database.js";
import { clientCustody } from "../envelope/custody-modes.js";
import { recoverVersionDek, vaultProtection } from "../envelope/protection.js";
import { openValue, sealValue } from "../envelope/value.js";
import { AppError, badRequest, conflict, notFound } from "../errors.js";
import { isUuid } from "../ids.js";
import { isoTime as iso } from "../times.js";
import type { JobKind, JobRunner, JobWork } from "../jobs/job-runner.js";
import { countProgress, jobsOfVault, type JobRow } from "../jobs/job-queries.js";
import type { CorruptShareEvent } from "../health/health-monitor.js";
import type { LatencyTracker } from "../envelope/latency.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { countCmekVersions, findCmekVersions, findMpcState, replaceCmekCiphertext } from "../secrets/secret-queries.js";
import { findVaultById, lockVault, type VaultRow } from "../vaults/vault-queries.js";
import { toVaultView, type VaultService, type VaultView } from "../vaults/vault-service.js";
import { checkFingerprint, keyFromHeader } from "./cmek-format.js";

const BATCH_SIZE = 100;
const CMEK_PLANS: readonly Plan[] = ["business", "enterprise"];
const NO_AAD = new Uint8Array(0);
const KIND = "cmek_rotate";

/** The job kind: not resumable by the runner alone, its keys live only in the memory of the process running it. */
export const CMEK_ROTATION_JOB: JobKind = {
  name: KIND,
  completed: "vault.cmek_rotate_completed",
  failed: "vault.cmek_rotate_failed",
  interrupted: "interrupted (server restart): post the same rotation again to resume",
};

const fingerprints = (job: JobRow) => job.params as { old_fingerprint: string; new_fingerprint: string };

const toJobView = (row: JobRow): CmekRotationJob => ({
  id: row.id,
  vault_id: row.vault_id,
  ...fingerprints(row),
  status: row.status,
  total_secrets: row.total,
  processed: row.processed,
  ...(row.error ? { error: row.error } : {}),
  started_at: iso(row.started_at),
  completed_at: iso(row.completed_at),
  created_at: iso(row.created_at)!,
});

/** In a client-custody MPC vault the server cannot open values without the client's shares. */
function refuseClientCustody(vault: VaultRow): void {
  if (clientCustody(vault.mpc_custody)) {
    throw conflict("rotation_needs_client_shares", "in a client-custody MPC vault the server cannot open values without the client's shares: re-encrypt client-side (read with the shares, re-encrypt, write)");
  }
}

export type CmekService = ReturnType<typeof createCmekService>;

export function createCmekService(deps: {
  db: Database;
  providers: ProviderRegistry;
  vaults: VaultService;
  jobs: JobRunner;
  plan: Plan;
  latency: LatencyTracker;
  reportCorruptShare(event: CorruptShareEvent): void;
  audit: AuditLog;
}) {
  const { db, providers, vaults, jobs } = deps;

  function checkPlan(): void {
    if (!CMEK_PLANS.includes(deps.plan)) {
      throw new AppError(403, "plan_required", `CMEK needs a Business or Enterprise plan (this deployment: ${deps.plan})`, { type: "resource_limit_exceeded" });
    }
  }

  async function setFingerprint(principal: Principal, vaultId: string, fingerprint: string | null): Promise<VaultView> {
    const vault = await vaults.require(principal, vaultId, "manage");
    return db.transaction(async (tx) => {
      const locked = (await lockVault(tx, vault.id, "update"))!;
      if (fingerprint !== null && locked.cmek_fingerprint !== null && locked.cmek_fingerprint !== fingerprint) {
        throw conflict("cmek_already_enabled", "CMEK is already enabled with another key: rotate it with cmek-rotate");
      }
      if (locked.cmek_fingerprint === fingerprint) return toVaultView(locked);
      await tx.query("UPDATE vaults SET cmek_fingerprint = $2 WHERE id = $1", [vault.id, fingerprint]);
      const changed = toVaultView((await lockVault(tx, vault.id, "update"))!);
      // The event last: it holds the organization's audit chain head until the commit.
      await deps.audit.recordIn(tx, principal, {
        action: fingerprint ? "vault.cmek_enable" : "vault.cmek_disable",
        resourceType: "vault",
        resourceId: vault.id,
        details: fingerprint ? { fingerprint } : {},
      });
      return changed;
    });
  }

  /** Re-encrypts one batch of versions from the old key to the new one, in one transaction. */
  async function rotateBatch(job: JobRow, oldKey: Uint8Array, newKey: Uint8Array): Promise<number> {
    const { old_fingerprint: oldFingerprint, new_fingerprint: newFingerprint } = fingerprints(job);
    const vault = await findVaultById(db, job.vault_id);
    if (!vault) throw new Error("the vault was deleted");
    const protection = await vaultProtection(db, providers, vault, "read");
    const versions = await findCmekVersions(db, job.vault_id, oldFingerprint, BATCH_SIZE);
    if (versions.length === 0) return 0;
    const updates: Array<{ id: string; ciphertext: Uint8Array }> = [];
    for (const v of versions) {
      // Yield to the event loop: on PGlite every await here resolves as a microtask, and a long job would
      // otherwise keep the server from answering anyone else.
      await new Promise((resolve) => setImmediate(resolve));
      const ref = { vaultId: vault.id, path: v.path, version: v.version };
      const mpc = protection.kind === "mpc" ? await findMpcState(db, v.id) : undefined;
      const keys = { commitment: v.dek_commitment, wrappedDek: v.wrapped_dek, kekSlot: v.kek_slot, kekId: v.kek_id, shares: [], ...mpc };
      const dek = await recoverVersionDek(protection, providers, ref, keys, {
        latency: deps.latency,
        onCorruptShare: (slot) => deps.reportCorruptShare({ slot, vaultId: vault.id, path: v.path, version: v.version }),
      });
      let stored: Buffer | undefined;
      let plaintext: Buffer | undefined;
      try {
        // The stored value is the client's blob in its base64 form, as written.
        stored = openValue(dek, ref, v.ciphertext);
        try {
          plaintext = open(oldKey, Buffer.from(stored.toString("latin1"), "base64"), NO_AAD);
        } catch (error) {
          if (error instanceof CryptoError) throw new Error(`version ${v.version} of ${v.path} does not open with the old key`);
          throw error;
        }
        // The same DEK, a fresh IV: wrapped DEK, shares and commitment stay as they are.
        const blob = Buffer.from(seal(newKey, plaintext, NO_AAD).toString("base64"), "latin1");
        updates.push({ id: v.id, ciphertext: sealValue(dek, ref, blob) });
      } finally {
        wipe(dek, stored, plaintext);
      }
    }
    return db.transaction(async (tx) => {
      let updated = 0;
      for (const u of updates) {
        if (await replaceCmekCiphertext(tx, u.id, u.ciphertext, oldFingerprint, newFingerprint)) updated++;
      }
      await countProgress(tx, job.id, updated);
      return updates.length;
    });
  }

  /** The work of one run; the keys are wiped when it ends. */
  const rotation = (oldKey: Uint8Array, newKey: Uint8Array): JobWork => ({
    batch: (job) => rotateBatch(job, oldKey, newKey),
    release: () => wipe(oldKey, newKey),
  });

  return {
    enable(principal: Principal, vaultId: string, body: { fingerprint?: unknown }) {
      checkPlan();
      return setFingerprint(principal, vaultId, checkFingerprint(body.fingerprint));
    },

    disable(principal: Principal, vaultId: string) {
      return setFingerprint(principal, vaultId, null);
    },

    async startRotation(principal: Principal, vaultId: string, body: { new_fingerprint?: unknown }, headers: { oldKey?: string; newKey?: string }) {
      checkPlan();
      const newFingerprint = checkFingerprint(body.new_fingerprint, "new_fingerprint");
      const vault = await vaults.require(principal, vaultId, "manage");
      refuseClientCustody(vault);
      // Posting a rotation again (after a restart, or a retry) finds its job: the vault already carries the
      // new fingerprint then.
      const previous =
        vault.cmek_fingerprint === newFingerprint ? (await jobsOfVault(db, vault.id, [KIND])).find((j) => fingerprints(j).new_fingerprint === newFingerprint) : undefined;
      const unfinished = previous && previous.status !== "completed" ? previous : undefined;
      const oldFingerprint = previous ? fingerprints(previous).old_fingerprint : vault.cmek_fingerprint;
      if (!oldFingerprint) throw conflict("cmek_not_enabled", "CMEK is not enabled on this vault");
      if (oldFingerprint === newFingerprint) throw badRequest("cmek_same_key", "new_fingerprint is the key the vault already uses");
      const oldKey = keyFromHeader(headers.oldKey, "x-cmek-old-key", oldFingerprint);
      if (previous?.status === "completed") {
        wipe(oldKey);
        keyFromHeader(headers.newKey, "x-cmek-new-key", newFingerprint).fill(0);
        return toJobView(previous);
      }
      let newKey: Uint8Array;
      try {
        newKey = keyFromHeader(headers.newKey, "x-cmek-new-key", newFingerprint);
      } catch (error) {
        wipe(oldKey);
        throw error;
      }
      if (unfinished) {
        // Resumed by whoever posts it with the keys; a live runner (here or in another instance) keeps it.
        await jobs.resumedBy(unfinished, principal);
        return toJobView(await jobs.run(unfinished, rotation(oldKey, newKey)));
      }
      let job: JobRow;
      try {
        job = await db.transaction(async (tx) => {
          // Under the vault's lock, which enabling MPC takes too: MPC enabled meanwhile is seen here, and a job
          // started here is seen by it.
          const locked = await lockVault(tx, vault.id, "update");
          if (!locked) throw notFound("vault_not_found", `vault ${vaultId} not found`);
          refuseClientCustody(locked);
          await jobs.refuseWhileRunning(tx, vault.id, "rotate the CMEK key");
          const total = await countCmekVersions(tx, vault.id, oldFingerprint);
          // New writes use the new key from now on.
          await tx.query("UPDATE vaults SET cmek_fingerprint = $2 WHERE id = $1", [vault.id, newFingerprint]);
          const row = await jobs.create(tx, principal, { vault_id: vault.id, kind: KIND, params: { old_fingerprint: oldFingerprint, new_fingerprint: newFingerprint }, total });
          await deps.audit.recordIn(tx, principal, { action: "vault.cmek_rotate", resourceType: "vault", resourceId: vault.id, details: { job_id: row.id, new_fingerprint: newFingerprint } });
          return row;
        });
      } catch (error) {
        wipe(oldKey, newKey);
        throw error;
      }
      return toJobView(await jobs.run(job, rotation(oldKey, newKey)));
    },

    async job(principal: Principal, vaultId: string, jobId: string): Promise<CmekRotationJob> {
      const vault = await vaults.require(principal, vaultId, "view");
      const row = isUuid(jobId) ? await jobs.find(vault.id, jobId) : undefined;
      if (!row || row.kind !== KIND) throw notFound("job_not_found", `rotation job ${jobId} not found`);
      return toJobView(row);
    },
  };
}
