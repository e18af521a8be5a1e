/** The `jobs` table: one row per background job of any kind. */
import type { JobStatus } from "@shardvault/api";
import type { Queryable } from "../db/database.js";

export interface JobRow {
  id: string;
  vault_id: string;
  kind: string;
  params: Record<string, unknown>;
  status: JobStatus;
  total: number;
  processed: number;
  error: string | null;
  org_id: string;
  actor_id: string;
  actor_type: string;
  runner: string | null;
  heartbeat_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
}

const COLUMNS = `id, vault_id, kind, params, status, total, processed, error, org_id, actor_id, actor_type, runner, heartbeat_at,
  started_at, completed_at, created_at`;

export type NewJob = Pick<JobRow, "id" | "vault_id" | "kind" | "params" | "total" | "org_id" | "actor_id" | "actor_type"> & { status?: JobStatus; error?: string };

export async function insertJob(db: Queryable, job: NewJob): Promise<JobRow> {
  const [row] = await db.query<JobRow>(
    `INSERT INTO jobs (id, vault_id, kind, params, status, total, error, org_id, actor_id, actor_type)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [job.id, job.vault_id, job.kind, JSON.stringify(job.params), job.status ?? "pending", job.total, job.error ?? null, job.org_id, job.actor_id, job.actor_type],
  );
  return row!;
}

export async function findJob(db: Queryable, vaultId: string, jobId: string): Promise<JobRow | undefined> {
  const [row] = await db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1 AND vault_id = $2`, [jobId, vaultId]);
  return row;
}

/** A vault's jobs of the given kinds, newest first. */
export async function jobsOfVault(db: Queryable, vaultId: string, kinds: readonly string[], limit = 20): Promise<JobRow[]> {
  return db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE vault_id = $1 AND kind = ANY($2::text[]) ORDER BY created_at DESC, id LIMIT $3`, [
    vaultId,
    kinds,
    limit,
  ]);
}

/** Jobs still pending or running: on one vault, or everywhere (the sweeper's view). */
export async function unfinishedJobs(db: Queryable, vaultId?: string): Promise<JobRow[]> {
  return vaultId === undefined
    ? db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE status IN ('pending', 'running') ORDER BY created_at`)
    : db.query<JobRow>(`SELECT ${COLUMNS} FROM jobs WHERE status IN ('pending', 'running') AND vault_id = $1 ORDER BY created_at`, [vaultId]);
}

/** Counts `n` more items done, inside the transaction that committed them, so the count never drifts from the data. */
export async function countProgress(tx: Queryable, jobId: string, n: number): Promise<void> {
  await tx.query("UPDATE jobs SET processed = processed + $2, heartbeat_at = now() WHERE id = $1", [jobId, n]);
}

/** Claims a job for a runner: running again, error cleared. Undefined when it completed meanwhile. */
export async function claimJob(db: Queryable, jobId: string, runner: string): Promise<JobRow | undefined> {
  const [row] = await db.query<JobRow>(
    `UPDATE jobs SET status = 'running', runner = $2, error = NULL, heartbeat_at = now(), started_at = COALESCE(started_at, now())
      WHERE id = $1 AND status <> 'completed' RETURNING ${COLUMNS}`,
    [jobId, runner],
  );
  return row;
}

export async function markCompleted(tx: Queryable, jobId: string): Promise<void> {
  await tx.query("UPDATE jobs SET status = 'completed', error = NULL, completed_at = now() WHERE id = $1", [jobId]);
}

/** Records a failure; the message names items and causes, never key material. */
export async function markFailed(db: Queryable, jobId: string, error: string): Promise<JobRow | undefined> {
  const [row] = await db.query<JobRow>(`UPDATE jobs SET status = 'failed', error = $2 WHERE id = $1 AND status <> 'completed' RETURNING ${COLUMNS}`, [jobId, error]);
  return row;
}

/** Whoever resumes a job becomes the actor of its end event. */
export async function setJobActor(db: Queryable, jobId: string, actor: { orgId: string; id: string; type: string }): Promise<void> {
  await db.query("UPDATE jobs SET org_id = $2, actor_id = $3, actor_type = $4 WHERE id = $1", [jobId, actor.orgId, actor.id, actor.type]);
}
