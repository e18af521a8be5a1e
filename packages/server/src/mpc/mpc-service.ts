/**
 * Enabling MPC on a vault. The custody mode is immutable once set. Each share-holding slot gets its own KEK
 * for the vault; then every live version is re-protected: its DEK unwrapped from the vault's single KEK,
 * split under the new mode, shares wrapped, commitment recomputed. Provider calls all run before the
 * transaction, which only swaps rows, with the vault row locked FOR UPDATE (writes take it FOR SHARE), so
 * no version written under the old mode commits after the switch.
 */
import { wipe } from "@shardvault/crypto";
import type { AuditLog } from "../audit/audit.js";
import type { Principal } from "../auth/principal.js";
import { mapLimit } from "../concurrency.js";
import type { Plan } from "../config/deployment.js";
import type { Database } from "../db/database.js";
import { CLIENT, forgeableQuorum, requestedMode, shareHolders, type CustodyMode } from "../envelope/custody-modes.js";
import { protectDek, type MpcVault, type ProtectedDek } from "../envelope/mpc.js";
import { unwrapPlainDek } from "../envelope/plain.js";
import { configuredProvider } from "../envelope/protection.js";
import { AppError, badRequest, conflict } from "../errors.js";
import type { JobRunner } from "../jobs/job-runner.js";
import type { Logger } from "../log.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { findWrappedVersions, insertShares, moveToShares, shredDeleted, type WrappedVersionRow } from "../secrets/secret-queries.js";
import { lockVault, type VaultRow } from "../vaults/vault-queries.js";
import { createVaultKeks, recordMpcMode, toVaultView, type VaultService, type VaultView } from "../vaults/vault-service.js";

const REPROTECT_CONCURRENCY = 8;
const MAX_ATTEMPTS = 3;
const MPC_PLANS: readonly Plan[] = ["business", "enterprise"];

export interface EnableMpcBody {
  custody_mode?: string;
  mpc_custody?: string;
  providers?: string[];
}

interface Reprotected extends ProtectedDek {
  id: string;
  path: string;
  version: number;
}

export interface MpcEnabled {
  vault: VaultView;
  client_shares?: Array<{ path: string; version: number; client_share: string }>;
}

export type MpcService = ReturnType<typeof createMpcService>;

export function createMpcService(deps: {
  db: Database;
  providers: ProviderRegistry;
  vaults: VaultService;
  jobs: JobRunner;
  plan: Plan;
  reprotectMaxVersions: number;
  audit: AuditLog;
  log: Logger;
}) {
  const { db, providers, vaults, log } = deps;

  function checkPlan(): void {
    if (!MPC_PLANS.includes(deps.plan)) {
      throw new AppError(403, "plan_required", `MPC secret storage needs a Business or Enterprise plan (this deployment: ${deps.plan})`, {
        type: "resource_limit_exceeded",
      });
    }
  }

  /**
   * Validates a request to enable MPC without touching anything: the mode and its share holders, which may not
   * let RSA-wrapped slots alone rebuild a DEK (their wraps carry no integrity: see providers/azure-keyvault.ts).
   */
  function resolve(body: EnableMpcBody): { mode: CustodyMode; holders: string[] } | undefined {
    const mode = requestedMode(body);
    if (!mode) return undefined;
    checkPlan();
    const holders = shareHolders(mode, body.providers, (slot) => providers.get(slot) !== undefined);
    const forgeable = forgeableQuorum(mode, holders, (slot) => providers.get(slot)!.forgeableWraps);
    if (forgeable) {
      throw badRequest(
        "unauthenticated_quorum",
        `provider slots ${forgeable.join(", ")} wrap with RSA-OAEP, which anyone holding the public key can forge, and together they would rebuild ` +
          `a DEK on their own: name a slot with authenticated wraps among them (cloud KMS, PKCS#11, or Azure oct-HSM keys)`,
      );
    }
    return { mode, holders };
  }

  async function reprotect(vault: VaultRow, target: MpcVault, versions: WrappedVersionRow[]): Promise<Reprotected[]> {
    return mapLimit(versions, REPROTECT_CONCURRENCY, async (v) => {
      const ref = { vaultId: vault.id, path: v.path, version: v.version };
      const dek = await unwrapPlainDek({ provider: configuredProvider(providers, v.kek_slot), kekId: v.kek_id }, ref, { commitment: v.dek_commitment, wrappedDek: v.wrapped_dek });
      try {
        return { id: v.id, path: v.path, version: v.version, ...(await protectDek(target, providers, ref, dek)) };
      } finally {
        wipe(dek);
      }
    });
  }

  /** Swaps the vault to MPC in one transaction; answers false when versions were written meanwhile. */
  async function commit(principal: Principal, vaultId: string, target: MpcVault, done: Map<string, Reprotected>): Promise<{ vault: VaultRow; raced: boolean; protectedIds: Set<string> } | false> {
    return db.transaction(async (tx) => {
      const locked = await lockVault(tx, vaultId, "update");
      if (!locked) throw conflict("vault_not_found", "the vault was deleted meanwhile");
      if (locked.mpc_custody) {
        // Another request enabled MPC meanwhile: the same mode is the no-op it would have been anyway.
        if (locked.mpc_custody === target.mode.name) return { vault: locked, raced: true, protectedIds: new Set<string>() };
        throw conflict("mpc_mode_immutable", `MPC was enabled meanwhile with ${locked.mpc_custody}`);
      }
      // A job started meanwhile (it takes this lock to start) would go on re-reading the vault under the new mode.
      await deps.jobs.refuseWhileRunning(tx, vaultId, "enable MPC");
      const live = await findWrappedVersions(tx, vaultId);
      if (live.some((v) => !done.has(v.id))) return false;
      // Versions deleted since they were re-protected are shredded below, not given shares.
      const liveIds = new Set(live.map((v) => v.id));
      await recordMpcMode(tx, vaultId, target.mode, target.holders, target.keks);
      const layout = { generation: locked.mpc_generation, holders: target.holders, commitmentHolders: null };
      for (const r of done.values()) {
        if (!liveIds.has(r.id)) continue;
        await moveToShares(tx, r.id, r.commitment, layout);
        await insertShares(tx, vaultId, r.id, r.shares);
      }
      // Soft-deleted versions are not re-protected: dropping their wrapped DEK crypto-shreds them.
      await shredDeleted(tx, vaultId);
      const enabled = (await lockVault(tx, vaultId, "update"))!;
      // The event last: it holds the organization's audit chain head until the commit.
      await deps.audit.recordIn(tx, principal, {
        action: "vault.mpc_enable",
        resourceType: "vault",
        resourceId: vaultId,
        details: { custody_mode: target.mode.name, providers: target.holders, reprotected_versions: liveIds.size },
      });
      return { vault: enabled, raced: false, protectedIds: liveIds };
    });
  }

  async function enable(principal: Principal, vaultId: string, body: EnableMpcBody): Promise<MpcEnabled> {
    const vault = await vaults.require(principal, vaultId, "manage");
    const requested = resolve(body);
    if (!requested) throw new AppError(400, "validation_error", "custody_mode (or mpc_custody) is required");
    if (vault.mpc_custody) {
      const sameHolders = body.providers === undefined || JSON.stringify(requested.holders) === JSON.stringify(vault.mpc_providers);
      if (vault.mpc_custody === requested.mode.name && sameHolders) return { vault: toVaultView(vault) };
      throw conflict("mpc_mode_immutable", `MPC is already enabled on this vault with ${vault.mpc_custody} (${vault.mpc_providers?.join(", ")}); it cannot change`);
    }
    // A job re-reads the vault's protection batch by batch: switching it underneath would, in a client-custody
    // mode, leave the job holding DEKs without the client's shares (the envelope refuses that, failing the job).
    await deps.jobs.refuseWhileRunning(db, vault.id, "enable MPC");
    const versions = await findWrappedVersions(db, vault.id);
    if (versions.length > deps.reprotectMaxVersions) {
      throw conflict("vault_too_large", `the vault holds ${versions.length} live versions; at most ${deps.reprotectMaxVersions} can be re-protected at once`);
    }
    const target: MpcVault = { mode: requested.mode, holders: requested.holders, keks: await createVaultKeks(providers, vault.id, requested.holders.filter((h) => h !== CLIENT)) };
    let recorded = false;
    try {
      const done = new Map<string, Reprotected>();
      let pending = versions;
      for (let attempt = 1; ; attempt++) {
        for (const r of await reprotect(vault, target, pending)) done.set(r.id, r);
        const committed = await commit(principal, vault.id, target, done);
        if (committed && committed.raced) return { vault: toVaultView(committed.vault) };
        if (committed) {
          recorded = true;
          await disableKek(vault.kek_slot, vault.kek_id, vault.id);
          const shares = [...done.values()].filter((r) => r.clientShare && committed.protectedIds.has(r.id));
          return {
            vault: toVaultView(committed.vault),
            ...(requested.mode.clientHoldsShare ? { client_shares: shares.map((r) => ({ path: r.path, version: r.version, client_share: r.clientShare! })) } : {}),
          };
        }
        if (attempt >= MAX_ATTEMPTS) throw conflict("vault_busy", "secrets kept being written while MPC was being enabled; try again");
        pending = (await findWrappedVersions(db, vault.id)).filter((v) => !done.has(v.id));
      }
    } finally {
      // KEKs made for an attempt that did not commit are disabled, not left usable at their providers.
      if (!recorded) for (const [slot, kekId] of target.keks) await disableKek(slot, kekId, vault.id);
    }
  }

  /**
   * Best effort. After a switch it is the vault's former single KEK: a backup taken before enabling stays
   * readable with it until it is destroyed.
   */
  async function disableKek(slot: string, kekId: string, vaultId: string): Promise<void> {
    const provider = providers.get(slot);
    if (!provider?.disableKek) return;
    await provider.disableKek(kekId).catch(() => log.warn(`could not disable a KEK of vault ${vaultId} at ${slot}`));
  }

  return { enable, resolve };
}
