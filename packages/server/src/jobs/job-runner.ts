/**
 * The one job runner: CMEK rotation and the MPC key lifecycle jobs run on it. A job is a row in `jobs` and a
 * piece of work done batch by batch, each batch committing its own changes together with its progress, so a
 * job stopped anywhere (kill -9 included) has committed whole batches and resumes where it stopped.
 *
 * One runner per job, across instances: a runner holds the job's advisory lock while it runs. PostgreSQL drops
 * the locks of a dead session, so "locked" means "a live runner has it" and a job whose runner died can be
 * claimed again at once: by posting the same call again, or by the sweeper of any instance for kinds whose
 * inputs are all stored (`resume`). Kinds that need their starter's inputs (CMEK keys live only in memory)
 * are reported failed once their runner is gone, and resume when posted again with those inputs.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { AuditAction } from "@shardvault/api";
import type { AuditLog } from "../audit/audit.js";
import type { Principal } from "../auth/principal.js";
import type { AdvisoryLock, Database, Queryable } from "../db/database.js";
import { conflict } from "../errors.js";
import type { Logger } from "../log.js";
import { claimJob, findJob, insertJob, markCompleted, markFailed, setJobActor, unfinishedJobs, type JobRow, type NewJob } from "./job-queries.js";

const SWEEP_INTERVAL_MS = 10_000;

/** A job's work, built for one run. */
export interface JobWork {
  /**
   * Does the next batch and commits it, counting its items with `countProgress` in the same transaction.
   * Answers how many items it handled; 0 means nothing is left.
   */
  batch(job: JobRow): Promise<number>;
  /** After the last batch, before the job reads completed (e.g. disabling the KEKs it retired). */
  finish?(job: JobRow): Promise<void>;
  /** When the run ends, however it ends (e.g. wiping keys held for it). */
  release?(): void;
}

export interface JobKind {
  name: string;
  /** The audit actions of its end; its start is recorded by whoever creates it, with the change that starts it. */
  completed: AuditAction;
  failed: AuditAction;
  /**
   * Builds the work from the stored job alone, for kinds whose inputs are all stored: any instance picks
   * such a job up again when its runner is gone. Absent: the job needs its starter's inputs.
   */
  resume?(job: JobRow): JobWork;
  /** For kinds without `resume`: the error recorded when the runner is gone, telling how to resume. */
  interrupted?: string;
}

/** What the runner reports of its runs (metrics): a run began, committed a batch of items, ended. */
export interface JobObserver {
  started(kind: string): void;
  batch(kind: string, items: number): void;
  /** `stopped`: this instance stopped; the job stays unfinished and resumes later. */
  ended(kind: string, outcome: "completed" | "failed" | "stopped"): void;
}

export type JobRunner = ReturnType<typeof createJobRunner>;

/** A bigint advisory-lock key per job: the first 60 bits of its UUID. */
const lockKey = (jobId: string) => BigInt(`0x${jobId.replace(/-/g, "").slice(0, 15)}`);

const actorOf = (job: JobRow): Principal => ({ type: job.actor_type as Principal["type"], id: job.actor_id, orgId: job.org_id, scopes: [] });

export function createJobRunner(deps: {
  db: Database;
  audit: AuditLog;
  log: Logger;
  kinds: readonly JobKind[];
  /** Testing aid: every run waits (holding its job) once it has committed this many batches. */
  pauseAfterBatches?: number;
  observer?: JobObserver;
}) {
  const { db, log, audit } = deps;
  const kinds = new Map(deps.kinds.map((kind) => [kind.name, kind]));
  const runnerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Runs of this process, by job id. */
  const running = new Map<string, Promise<void>>();
  let stopping = false;
  let releasePaused: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => (releasePaused = resolve));

  function kindOf(job: JobRow): JobKind {
    const kind = kinds.get(job.kind);
    if (!kind) throw new Error(`unknown job kind ${job.kind}`);
    return kind;
  }

  /** Whether a live runner (here or in another instance) holds the job. */
  async function isLive(job: JobRow): Promise<boolean> {
    if (running.has(job.id)) return true;
    const lock = await db.tryAdvisoryLock(lockKey(job.id));
    if (!lock) return true;
    await lock.release();
    return false;
  }

  async function end(job: JobRow, action: AuditAction, write: (tx: Queryable) => Promise<void>): Promise<void> {
    await db.transaction(async (tx) => {
      await write(tx);
      await audit.recordIn(tx, actorOf(job), { action, resourceType: "vault", resourceId: job.vault_id, details: { job_id: job.id, kind: job.kind } });
    });
  }

  async function loop(job: JobRow, work: JobWork, lock: AdvisoryLock): Promise<void> {
    const kind = kindOf(job);
    let outcome: "completed" | "failed" | "stopped" = "stopped";
    deps.observer?.started(kind.name);
    try {
      let batches = 0;
      while (!stopping) {
        const items = await work.batch(job);
        if (items === 0) break;
        deps.observer?.batch(kind.name, items);
        // Yield to the event loop: on PGlite every await here can resolve as a microtask, and a long job
        // would otherwise keep the server from answering anyone else.
        await new Promise((resolve) => setImmediate(resolve));
        if (++batches === deps.pauseAfterBatches) {
          log.warn(`job ${job.id} paused after ${batches} batch(es) (SHARDVAULT_JOB_PAUSE_AFTER_BATCHES)`);
          await paused;
        }
      }
      // Stopping: the job stays running in the table and is claimed again after the restart.
      if (stopping) return;
      await work.finish?.(job);
      await end(job, kind.completed, (tx) => markCompleted(tx, job.id));
      outcome = "completed";
    } catch (error) {
      if (stopping) return;
      outcome = "failed";
      const message = (error as Error).message;
      await end(job, kind.failed, async (tx) => void (await markFailed(tx, job.id, message))).catch(() =>
        log.error(`could not record the failure of job ${job.id} (${job.kind})`),
      );
    } finally {
      deps.observer?.ended(kind.name, outcome);
      running.delete(job.id);
      work.release?.();
      await lock.release().catch(() => undefined);
    }
  }

  /**
   * Claims the job and runs it in the background. Answers the job as claimed, or as it stands when a live
   * runner already has it (then `work` is released unused).
   */
  async function run(job: JobRow, work: JobWork): Promise<JobRow> {
    const lock = running.has(job.id) || stopping ? undefined : await db.tryAdvisoryLock(lockKey(job.id));
    if (!lock) {
      work.release?.();
      return (await findJob(db, job.vault_id, job.id)) ?? job;
    }
    const claimed = await claimJob(db, job.id, runnerId).catch(async (error) => {
      await lock.release();
      throw error;
    });
    if (!claimed) {
      // Completed meanwhile.
      await lock.release();
      work.release?.();
      return (await findJob(db, job.vault_id, job.id)) ?? job;
    }
    running.set(job.id, loop(claimed, work, lock));
    return claimed;
  }

  /** Kinds with stored inputs are claimed again; the others are reported failed, waiting for their inputs. */
  async function sweep(): Promise<void> {
    for (const job of await unfinishedJobs(db)) {
      if (stopping || running.has(job.id)) continue;
      const kind = kinds.get(job.kind);
      if (!kind || (await isLive(job))) continue;
      if (kind.resume) {
        log.info(`resuming job ${job.id} (${job.kind}) whose runner stopped`);
        await run(job, kind.resume(job));
      } else {
        await markFailed(db, job.id, kind.interrupted ?? "interrupted: post the same call again to resume");
      }
    }
  }

  /**
   * The job running on a vault, if any: "is a job running on this vault". A pending or running job counts
   * when it goes on by itself (a live runner has it, or any instance resumes it).
   */
  async function runningOn(q: Queryable, vaultId: string): Promise<JobRow | undefined> {
    for (const job of await unfinishedJobs(q, vaultId)) {
      if (kinds.get(job.kind)?.resume || (await isLive(job))) return job;
    }
    return undefined;
  }

  const timer = setInterval(() => void sweep().catch((error) => log.error(`job sweep failed: ${(error as Error).message}`)), SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    run,
    sweep,
    runningOn,

    /** Creates a job inside the caller's transaction (which records its start), as pending unless told otherwise. */
    create(tx: Queryable, principal: Principal, job: Omit<NewJob, "id" | "org_id" | "actor_id" | "actor_type">): Promise<JobRow> {
      if (!kinds.has(job.kind)) throw new Error(`unknown job kind ${job.kind}`);
      return insertJob(tx, { ...job, id: randomUUID(), org_id: principal.orgId, actor_id: principal.id, actor_type: principal.type });
    },

    /** Whoever posts a job again becomes the actor of its end event. */
    resumedBy(job: JobRow, principal: Principal): Promise<void> {
      return setJobActor(db, job.id, principal);
    },

    /** A vault's job, with an interrupted one (its runner gone, its inputs not stored) reported as failed. */
    async find(vaultId: string, jobId: string): Promise<JobRow | undefined> {
      const job = await findJob(db, vaultId, jobId);
      if (!job || job.status === "completed" || job.status === "failed") return job;
      const kind = kindOf(job);
      if (kind.resume || (await isLive(job))) return job;
      return (await markFailed(db, job.id, kind.interrupted ?? "interrupted")) ?? job;
    },

    /** 409 `vault_job_running` while a job runs on the vault. `change`: what the caller was about to do. */
    async refuseWhileRunning(q: Queryable, vaultId: string, change: string): Promise<void> {
      const job = await runningOn(q, vaultId);
      if (job) throw conflict("vault_job_running", `cannot ${change} while a ${job.kind} job (${job.id}) runs on this vault: try again when it has finished`);
    },

    /** Marks a job failed without running it (it waits for inputs only its callers can give). */
    fail: (job: JobRow, error: string) => markFailed(db, job.id, error),

    /** Stops the sweeper and lets running jobs end after their current batch; they resume after a restart. */
    async stop(): Promise<void> {
      stopping = true;
      clearInterval(timer);
      releasePaused();
      await Promise.allSettled([...running.values()]);
    },
  };
}
