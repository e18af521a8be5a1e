/**
 * The work of the MPC key lifecycle jobs. Starting a job switches the vault to a new layout generation (new
 * holders or KEKs; new writes use it at once); the job then brings every live version still at an older
 * generation to it, batch by batch, each batch committing its moved versions with its progress:
 *
 * - `rewrap`: every share keeps its value and is re-wrapped under the new layout (KEK rotation; a client-custody
 *   provider replacement, its share moving from the old slot to the new one);
 * - `resplit`: the DEK is rebuilt from any quorum and split afresh (proactive refresh; a multi-HSM provider
 *   replacement, which so works with the old slot unreachable).
 *
 * A version waiting for the job stays readable under the layout it records. Once none is left, the job
 * crypto-shreds the soft-deleted versions it did not move and disables the KEKs it retired.
 */
import type { AuditLog } from "../audit/audit.js";
import type { MpcJobKind } from "@shardvault/api";
import { mapLimit } from "../concurrency.js";
import type { Database } from "../db/database.js";
import type { LatencyTracker } from "../envelope/latency.js";
import { currentLayout, vaultProtection, versionVault, type MpcProtection } from "../envelope/protection.js";
import { resplitDek, rewrapShares } from "../envelope/reshare.js";
import type { CorruptShareEvent } from "../health/health-monitor.js";
import { countProgress, type JobRow } from "../jobs/job-queries.js";
import type { JobKind, JobWork } from "../jobs/job-runner.js";
import type { Logger } from "../log.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { findLaggingVersions, replaceMpcState, shredLaggingDeleted, type LaggingVersion, type MpcState } from "../secrets/secret-queries.js";
import { findVaultById } from "../vaults/vault-queries.js";

/** Versions per batch (one transaction each), and versions moved at once: at most this many calls per slot in flight. */
const BATCH_SIZE = 50;
const CONCURRENCY = 4;

/** A KEK the job retires once every version has moved; `required`: the job fails while it cannot be disabled. */
export interface RetiredKek {
  slot: string;
  kek_id: string;
  required: boolean;
}

/** What a lifecycle job stores to run (and to be resumed by any instance). */
export interface LifecycleParams {
  to_generation: number;
  move: "rewrap" | "resplit";
  retire: RetiredKek[];
  /** Provider replacement: the slot left and the slot taking its place. */
  from?: string;
  to?: string;
}

export const paramsOf = (job: JobRow) => job.params as unknown as LifecycleParams;

export interface LifecycleJobDeps {
  db: Database;
  audit: AuditLog;
  providers: ProviderRegistry;
  latency: LatencyTracker;
  reportCorruptShare(event: CorruptShareEvent): void;
  log: Logger;
}

/** The commitment of a re-wrapped version keeps binding the holders its DEK was split for. */
function commitmentHoldersAfter(version: LaggingVersion, holders: readonly string[]): readonly string[] | null {
  const bound = version.layout.commitmentHolders ?? version.layout.holders;
  return JSON.stringify(bound) === JSON.stringify(holders) ? null : bound;
}

export function lifecycleWork(deps: LifecycleJobDeps, job: JobRow): JobWork {
  const { db, providers } = deps;
  const params = paramsOf(job);

  async function move(p: MpcProtection, v: LaggingVersion): Promise<MpcState> {
    const ref = { vaultId: job.vault_id, path: v.path, version: v.version };
    const source = versionVault(p, v.layout);
    if (params.move === "rewrap") {
      const shares = await rewrapShares(source, p.vault, providers, ref, v.shares);
      return { commitment: v.commitment, shares, layout: { ...currentLayout(p), commitmentHolders: commitmentHoldersAfter(v, p.vault.holders) } };
    }
    // Never in client custody: a new split would make a new client share that nobody could be given.
    if (p.vault.mode.clientHoldsShare) throw new Error("a client-custody version is re-split only with its client share (secret-refresh)");
    const fresh = await resplitDek(source, p.vault, providers, ref, v, {
      latency: deps.latency,
      onCorruptShare: (slot) => deps.reportCorruptShare({ slot, vaultId: job.vault_id, path: v.path, version: v.version }),
    });
    return { commitment: fresh.commitment, shares: fresh.shares, layout: currentLayout(p) };
  }

  return {
    async batch(current) {
      const vault = await findVaultById(db, current.vault_id);
      if (!vault?.mpc_custody) throw new Error("the vault was deleted");
      const p = (await vaultProtection(db, providers, vault, "write")) as MpcProtection;
      if (p.generation !== params.to_generation) throw new Error(`the vault's layout moved on to generation ${p.generation} (this job brings versions to ${params.to_generation})`);
      const versions = await findLaggingVersions(db, vault.id, p.generation, BATCH_SIZE);
      if (versions.length === 0) return 0;
      const moved = await mapLimit(versions, CONCURRENCY, (v) =>
        move(p, v).catch((error: Error) => {
          // Names the version and the cause, never key material.
          throw new Error(`version ${v.version} of ${v.path}: ${error.message}`);
        }),
      );
      return db.transaction(async (tx) => {
        let updated = 0;
        // A version moved meanwhile (a client's secret-refresh) keeps that move; only what this batch changed counts.
        for (const [i, v] of versions.entries()) if (await replaceMpcState(tx, v.id, v, moved[i]!)) updated++;
        await countProgress(tx, current.id, updated);
        return versions.length;
      });
    },

    async finish(current) {
      await shredLaggingDeleted(db, current.vault_id, params.to_generation);
      for (const kek of params.retire) {
        const provider = providers.get(kek.slot);
        try {
          await provider?.disableKek?.(kek.kek_id);
        } catch (error) {
          if (kek.required) throw new Error(`the retired KEK at ${kek.slot} could not be disabled (${(error as Error).message}); post the same call again to retry`);
          deps.log.warn(`could not disable the retired KEK of vault ${current.vault_id} at ${kek.slot}`);
        }
      }
    },
  };
}

const AUDIT: Record<MpcJobKind, Pick<JobKind, "completed" | "failed">> = {
  rotate: { completed: "mpc.rotate_completed", failed: "mpc.rotate_failed" },
  replace_provider: { completed: "mpc.replace_provider_completed", failed: "mpc.replace_provider_failed" },
  refresh: { completed: "mpc.refresh_completed", failed: "mpc.refresh_failed" },
};

/** The lifecycle job kinds: all their inputs are stored, so any instance resumes one whose runner died. */
export const lifecycleJobKinds = (deps: LifecycleJobDeps): JobKind[] =>
  (Object.keys(AUDIT) as MpcJobKind[]).map((name) => ({ name, ...AUDIT[name], resume: (job) => lifecycleWork(deps, job) }));
