/**
 * Background jobs that work through a vault's versions batch by batch (CMEK key rotation; the MPC lifecycle
 * jobs add their table to `runningVaultJob`). Each batch reads the vault's protection afresh, so changing that
 * protection (enabling MPC) waits until no job runs on the vault. A job whose heartbeat stopped was interrupted
 * (its process, and any keys it held, are gone): it no longer counts as running.
 */
import type { Queryable } from "../db/database.js";
import { conflict } from "../errors.js";

/** A job whose heartbeat is older than this was interrupted. Jobs touch their heartbeat after every batch. */
export const JOB_STALE_AFTER = "30 seconds";

export interface RunningJob {
  kind: string;
  id: string;
}

/** The job running on the vault, if any. Callers that must not race a job's start hold the vault row lock. */
export async function runningVaultJob(db: Queryable, vaultId: string): Promise<RunningJob | undefined> {
  const [cmek] = await db.query<{ id: string }>(
    `SELECT id FROM cmek_rotation_jobs
      WHERE vault_id = $1 AND status IN ('pending', 'running') AND COALESCE(heartbeat_at, created_at) >= now() - interval '${JOB_STALE_AFTER}'
      LIMIT 1`,
    [vaultId],
  );
  return cmek ? { kind: "CMEK key rotation", id: cmek.id } : undefined;
}

/** 409 `vault_job_running` while a job runs on the vault. */
export async function refuseWhileJobRuns(db: Queryable, vaultId: string, change: string): Promise<void> {
  const job = await runningVaultJob(db, vaultId);
  if (job) throw conflict("vault_job_running", `cannot ${change} while a ${job.kind} job (${job.id}) runs on this vault: try again when it has finished`);
}
