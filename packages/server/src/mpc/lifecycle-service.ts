/**
 * The MPC key lifecycle: KEK rotation, provider replacement and proactive refresh (jobs, one at a time per
 * vault), and a client-custody secret's per-secret refresh with its client share.
 *
 * Starting a job creates what it needs at the providers first (new KEKs), then, in one transaction with the
 * vault row locked FOR UPDATE (writes hold it FOR SHARE), switches the vault to a new layout generation and
 * records the job and its start. From then on new writes use the new layout (a write sealed under the old one
 * is sealed again), so the set of versions the job must move is fixed, and it can finish.
 */
import { MPC_JOB_KINDS, type MpcJob, type MpcJobKind, type MpcJobStarted } from "@shardvault/api";
import { wipe } from "@shardvault/crypto";
import type { Principal } from "../auth/principal.js";
import { requireUser } from "../auth/roles.js";
import type { Plan } from "../config/deployment.js";
import type { Queryable } from "../db/database.js";
import { checkClientShare } from "../envelope/client-share-check.js";
import { CLIENT, slotShareReplicated } from "../envelope/custody-modes.js";
import { currentLayout, sameProtection, vaultProtection, versionVault, type MpcProtection } from "../envelope/protection.js";
import { resplitDek } from "../envelope/reshare.js";
import { AppError, badRequest, conflict, gone, notFound } from "../errors.js";
import { isUuid } from "../ids.js";
import { countProgress, jobsOfVault, type JobRow } from "../jobs/job-queries.js";
import type { JobRunner } from "../jobs/job-runner.js";
import {
  countLaggingVersions,
  countLiveMpcVersions,
  findMpcState,
  findVersion,
  lastVersion,
  replaceMpcState,
  type MpcState,
} from "../secrets/secret-queries.js";
import { findMpcKeks, lockVault, switchMpcLayout, type VaultRow } from "../vaults/vault-queries.js";
import { createVaultKeks, type VaultService } from "../vaults/vault-service.js";
import { lifecycleWork, paramsOf, type LifecycleJobDeps, type LifecycleParams, type RetiredKek } from "./lifecycle-jobs.js";

const LIFECYCLE_PLANS: readonly Plan[] = ["business", "enterprise"];

export interface LifecycleRequest {
  kind: MpcJobKind;
  from?: string;
  to?: string;
}

/** What starting a job changes: the next layout, the KEKs to create for it, and how versions move. */
interface NextLayout {
  holders: string[];
  keks: Map<string, string>;
  newKekSlots: string[];
  params: Omit<LifecycleParams, "to_generation">;
}

export const toJobView = (job: JobRow): MpcJob => ({
  id: job.id,
  kind: job.kind as MpcJobKind,
  status: job.status,
  total: job.total,
  processed: job.processed,
  ...(job.error ? { error: job.error } : {}),
});

export const toJobStarted = (job: JobRow): MpcJobStarted => ({ job_id: job.id, kind: job.kind as MpcJobKind, status: job.status });

const sameCall = (job: JobRow, request: LifecycleRequest) =>
  job.kind === request.kind && (request.kind !== "replace_provider" || (paramsOf(job).from === request.from && paramsOf(job).to === request.to));

export type LifecycleService = ReturnType<typeof createLifecycleService>;

export function createLifecycleService(
  deps: LifecycleJobDeps & {
    vaults: VaultService;
    jobs: JobRunner;
    plan: Plan;
    /** What a configured slot's trust rests on (two slots in one trust domain are one party). */
    trustDomain(slot: string): string | undefined;
  },
) {
  const { db, providers, vaults, jobs, audit } = deps;

  function checkPlan(): void {
    if (!LIFECYCLE_PLANS.includes(deps.plan)) {
      throw new AppError(403, "plan_required", `the MPC key lifecycle needs a Business or Enterprise plan (this deployment: ${deps.plan})`, {
        type: "resource_limit_exceeded",
      });
    }
  }

  async function mpcProtection(vault: VaultRow): Promise<MpcProtection> {
    if (!vault.mpc_custody) throw conflict("mpc_not_enabled", "MPC is not enabled on this vault");
    return (await vaultProtection(db, providers, vault, "write")) as MpcProtection;
  }

  /** The vault's newest lifecycle job while it is unfinished: only one at a time, so only the newest can be. */
  async function unfinishedJob(q: Queryable, vaultId: string): Promise<JobRow | undefined> {
    const [latest] = await jobsOfVault(q, vaultId, MPC_JOB_KINDS, 1);
    return latest && latest.status !== "completed" ? latest : undefined;
  }

  /** A slot the server cannot reach now: not configured any more, or reporting itself unavailable. */
  async function unreachable(slot: string): Promise<boolean> {
    const provider = providers.get(slot);
    if (!provider) return true;
    const health = await provider.health().catch(() => ({ status: "unavailable" as const }));
    return health.status === "unavailable";
  }

  function checkReplacement(p: MpcProtection, from: string, to: string): void {
    const slots = p.vault.holders.filter((h) => h !== CLIENT);
    if (!slots.includes(from)) throw badRequest("provider_not_in_vault", `"from" must be one of the vault's provider slots (${slots.join(", ")}), got ${from}`);
    if (to === from) throw badRequest("same_provider", `"to" must be another slot than "from"`);
    if (p.vault.holders.includes(to)) throw badRequest("provider_already_in_vault", `slot ${to} already holds a share of this vault`);
    if (!providers.get(to)) throw badRequest("provider_not_configured", `provider slot ${to} is not configured on this deployment`);
    const domain = deps.trustDomain(to);
    const shared = slots.find((slot) => domain !== undefined && deps.trustDomain(slot) === domain);
    if (shared) throw badRequest("shared_trust_domain", `slots ${to} and ${shared} rest on the same trust domain: they are one party, not two`);
  }

  /** Validates a call against the vault as it is and says what starting it changes. */
  async function nextLayout(p: MpcProtection, vaultId: string, request: LifecycleRequest): Promise<NextLayout> {
    const keks = await findMpcKeks(db, vaultId);
    const slots = p.vault.holders.filter((h) => h !== CLIENT);
    const clientCustody = p.vault.mode.clientHoldsShare;
    switch (request.kind) {
      case "rotate":
        return {
          holders: [...p.vault.holders],
          keks: new Map(),
          newKekSlots: slots,
          params: { move: "rewrap", retire: slots.map((slot): RetiredKek => ({ slot, kek_id: keks.get(slot)!, required: true })) },
        };
      case "refresh":
        if (clientCustody) {
          throw conflict("needs_client_shares", `in a client-custody vault the server cannot re-split a DEK alone: refresh each secret with POST /v1/vaults/${vaultId}/secret-refresh/{path} and its X-Client-Share`);
        }
        return { holders: [...p.vault.holders], keks, newKekSlots: [], params: { move: "resplit", retire: [] } };
      case "replace_provider": {
        const { from, to } = request as Required<LifecycleRequest>;
        checkReplacement(p, from, to);
        const kept = new Map([...keks].filter(([slot]) => slot !== from));
        return {
          holders: p.vault.holders.map((h) => (h === from ? to : h)),
          keks: kept,
          newKekSlots: [to],
          // Client custody: the server cannot rebuild a DEK alone, so shares move as they are (the client's stays
          // valid); in strict client custody the lost slot's copy of the server part comes from the other slot.
          params: { move: clientCustody ? "rewrap" : "resplit", retire: [{ slot: from, kek_id: keks.get(from)!, required: false }], from, to },
        };
      }
    }
  }

  async function disableKeks(keks: ReadonlyMap<string, string>): Promise<void> {
    for (const [slot, kekId] of keks) await providers.get(slot)?.disableKek?.(kekId).catch(() => deps.log.warn(`could not disable an unused KEK at ${slot}`));
  }

  /**
   * Runs a job, unless it is a client-custody replacement whose old slot is unreachable and whose share no
   * other slot holds: the server cannot move those shares, each secret's client must (secret-refresh), and the
   * job waits for them. (In strict client custody the other slot holds the same server part: the job runs.)
   */
  async function launch(p: MpcProtection, job: JobRow): Promise<JobRow> {
    const params = paramsOf(job);
    const stranded = job.kind === "replace_provider" && params.move === "rewrap" && !slotShareReplicated(p.vault.mode);
    if (stranded && params.from && (await unreachable(params.from))) {
      const waiting = (await countLaggingVersions(db, job.vault_id, params.to_generation)) > 0;
      if (waiting) {
        await jobs.fail(job, `needs_client_shares: slot ${params.from} is unreachable; move each secret with secret-refresh and its client share`);
        throw conflict(
          "needs_client_shares",
          `key provider slot ${params.from} is unreachable and this vault uses client custody: the server cannot move its shares alone. ` +
            `Move each secret with POST /v1/vaults/${job.vault_id}/secret-refresh/{path} and its X-Client-Share (job ${job.id} counts them), ` +
            `or post this call again once ${params.from} answers`,
        );
      }
    }
    return jobs.run(job, lifecycleWork(deps, job));
  }

  async function start(principal: Principal, vaultId: string, request: LifecycleRequest): Promise<JobRow> {
    requireUser(principal, "run MPC lifecycle jobs");
    checkPlan();
    const vault = await vaults.require(principal, vaultId, "manage");
    const p = await mpcProtection(vault);
    // Posting the same call again resumes its job; another call waits until it has completed.
    const unfinished = await unfinishedJob(db, vault.id);
    if (unfinished) {
      if (!sameCall(unfinished, request)) {
        throw conflict("job_unfinished", `a ${unfinished.kind} job (${unfinished.id}) on this vault is unfinished: post that call again to resume it first`);
      }
      await jobs.resumedBy(unfinished, principal);
      return launch(p, unfinished);
    }
    // A client retrying a replacement whose 202 it lost gets the job, not a refusal.
    const [latest] = await jobsOfVault(db, vault.id, MPC_JOB_KINDS, 1);
    if (latest && request.kind === "replace_provider" && sameCall(latest, request) && !p.vault.holders.includes(request.from!)) return latest;
    const next = await nextLayout(p, vault.id, request);
    await jobs.refuseWhileRunning(db, vault.id, `start a ${request.kind} job`);
    const created = await createVaultKeks(providers, vault.id, next.newKekSlots);
    let job: JobRow | undefined;
    try {
      job = await db.transaction(async (tx) => {
        const locked = await lockVault(tx, vault.id, "update");
        if (!locked || !sameProtection(p, locked)) throw conflict("vault_busy", "the vault's MPC layout changed meanwhile; post the call again");
        if (await unfinishedJob(tx, vault.id)) throw conflict("job_unfinished", "another lifecycle job started on this vault meanwhile");
        await jobs.refuseWhileRunning(tx, vault.id, `start a ${request.kind} job`);
        const generation = locked.mpc_generation + 1;
        await switchMpcLayout(tx, vault.id, generation, next.holders, new Map([...next.keks, ...created]));
        const row = await jobs.create(tx, principal, {
          vault_id: vault.id,
          kind: request.kind,
          params: { ...next.params, to_generation: generation } as unknown as Record<string, unknown>,
          total: await countLiveMpcVersions(tx, vault.id),
        });
        await audit.recordIn(tx, principal, {
          action: `mpc.${request.kind}_started`,
          resourceType: "vault",
          resourceId: vault.id,
          details: { job_id: row.id, ...(request.kind === "replace_provider" ? { from: request.from, to: request.to } : {}) },
        });
        return row;
      });
    } finally {
      // KEKs made for a start that did not commit are disabled, not left usable at their providers.
      if (!job) await disableKeks(created);
    }
    return launch(p, job);
  }

  /** Counts a version a client moved for an unfinished replacement, and completes the job when none is left. */
  async function afterClientMove(vaultId: string, generation: number): Promise<void> {
    const job = await unfinishedJob(db, vaultId);
    if (job && paramsOf(job).to_generation === generation && (await countLaggingVersions(db, vaultId, generation)) === 0) {
      await jobs.run(job, lifecycleWork(deps, job));
    }
  }

  return {
    start,

    async job(principal: Principal, vaultId: string, jobId: string): Promise<MpcJob> {
      const vault = await vaults.require(principal, vaultId, "view");
      const job = isUuid(jobId) ? await jobs.find(vault.id, jobId) : undefined;
      if (!job || !(MPC_JOB_KINDS as readonly string[]).includes(job.kind)) throw notFound("job_not_found", `job ${jobId} not found`);
      return toJobView(job);
    },

    /**
     * A client-custody version's DEK, rebuilt with the client's share, split afresh under the vault's current
     * layout: the answer's client share replaces the old one, which no longer combines with the new shares.
     * This is how a version moves to a replacement slot when the old one is unreachable.
     */
    async refreshSecret(principal: Principal, vaultId: string, path: string, opts: { version?: number; clientShare?: string }): Promise<{ version: number; client_share: string }> {
      const vault = await vaults.require(principal, vaultId, { permission: "write", path });
      const p = await mpcProtection(vault);
      if (!p.vault.mode.clientHoldsShare) throw conflict("not_client_custody", "this vault holds no client shares: refresh its shares with POST …/mpc/refresh");
      const row = await findVersion(db, vault.id, path, opts.version);
      if (!row) throw notFound("secret_not_found", opts.version === undefined ? `secret ${path} not found` : `secret ${path} version ${opts.version} not found`);
      if (row.deleted_at) throw gone("secret_deleted", `secret ${path} was deleted`);
      const ref = { vaultId: vault.id, path, version: row.version };
      const state = await findMpcState(db, row.id);
      const source = versionVault(p, state.layout);
      const clientShare = await checkClientShare(opts.clientShare, p.vault.mode, ref, await lastVersion(db, vault.id, path));
      const fresh = await resplitDek(source, p.vault, providers, ref, state, {
        latency: deps.latency,
        onCorruptShare: (slot) => deps.reportCorruptShare({ slot, vaultId: vault.id, path, version: row.version }),
        clientShare,
      }).finally(() => wipe(clientShare.share));
      const next: MpcState = { commitment: fresh.commitment, shares: fresh.shares, layout: currentLayout(p) };
      const lagged = state.layout.generation < p.generation;
      await db.transaction(async (tx) => {
        const locked = await lockVault(tx, vault.id, "share");
        if (!locked || !sameProtection(p, locked)) throw conflict("vault_protection_changed", "the vault's MPC layout changed during this refresh; retry it");
        if (!(await replaceMpcState(tx, row.id, state, next))) throw conflict("secret_refresh_conflict", "this version's shares were moved meanwhile; retry the refresh");
        const job = lagged ? await unfinishedJob(tx, vault.id) : undefined;
        if (job) await countProgress(tx, job.id, 1);
        await audit.recordIn(tx, principal, { action: "secret.refresh", resourceType: "secret", resourceId: row.id, details: { vault_id: vault.id, path, version: row.version } });
      });
      if (lagged) await afterClientMove(vault.id, p.generation);
      return { version: row.version, client_share: fresh.clientShare! };
    },
  };
}
