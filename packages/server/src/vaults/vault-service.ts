/** Vaults: each gets its own KEK at the default provider when it is created. */
import { randomUUID } from "node:crypto";
import type { PolicyPermission } from "@shardvault/api";
import { subjectOf, type Principal } from "../auth/principal.js";
import { standingOn, type Decision, type PolicyRule, type VaultFacts, type VaultStanding } from "../policies/decide.js";
import { findRules, findRulesByVault } from "../policies/policy-queries.js";
import type { Database, Queryable } from "../db/database.js";
import { callProvider } from "../envelope/provider-calls.js";
import type { AuditLog } from "../audit/audit.js";
import { isUuid } from "../ids.js";
import { notFound, refused } from "../errors.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { deleteVault, findVault, insertVault, listVaults, recordMpcKeks, type VaultRow } from "./vault-queries.js";
import { CLIENT, type CustodyMode } from "../envelope/custody-modes.js";

/** Creates a vault's KEK at each of the given slots, in parallel; any failure is a 503 naming the slot. */
export async function createVaultKeks(providers: ProviderRegistry, vaultId: string, slots: readonly string[]): Promise<Map<string, string>> {
  const kekIds = await Promise.all(
    slots.map((slot) => {
      const provider = providers.get(slot)!;
      return callProvider(provider, () => provider.createKek(vaultId));
    }),
  );
  return new Map(slots.map((slot, i) => [slot, kekIds[i]!]));
}

/** Records an MPC vault's mode and per-slot KEKs (inside the caller's transaction). */
export async function recordMpcMode(tx: Queryable, vaultId: string, mode: CustodyMode, holders: readonly string[], keks: ReadonlyMap<string, string>): Promise<void> {
  await tx.query("UPDATE vaults SET mpc_custody = $2, mpc_threshold = $3, mpc_providers = $4 WHERE id = $1", [vaultId, mode.name, mode.threshold, holders]);
  await recordMpcKeks(tx, vaultId, holders, keks);
}

export interface VaultView {
  id: string;
  name: string;
  description: string;
  created_by: string;
  created_by_type: string;
  created_at: string;
  cmek_enabled: boolean;
  cmek_fingerprint?: string;
  mpc_custody?: string;
  mpc_threshold?: number;
  mpc_providers?: string[];
}

const factsOf = (vault: VaultRow): VaultFacts => ({ id: vault.id, createdBy: vault.created_by, createdByType: vault.created_by_type });

export function toVaultView(row: VaultRow): VaultView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    created_by: row.created_by,
    created_by_type: row.created_by_type,
    created_at: new Date(row.created_at).toISOString(),
    cmek_enabled: row.cmek_fingerprint !== null,
    ...(row.cmek_fingerprint ? { cmek_fingerprint: row.cmek_fingerprint } : {}),
    // The mpc_* fields are absent while MPC is off.
    ...(row.mpc_custody ? { mpc_custody: row.mpc_custody, mpc_threshold: row.mpc_threshold!, mpc_providers: row.mpc_providers! } : {}),
  };
}

/** What a caller needs on a vault: to see it, to manage it, or one permission on one path. */
export type VaultNeed = "view" | "manage" | { permission: PolicyPermission; path: string };

export interface AuthorizedVault {
  vault: VaultRow;
  standing: VaultStanding;
}

const DENIALS: Record<Exclude<Decision, { allowed: true }>["reason"], string> = {
  no_matching_policy: "no policy allows it",
  denied_by_policy: "a policy denies it",
  outside_vault_ids: "the agent's vault_ids do not include this vault",
};

export type VaultService = ReturnType<typeof createVaultService>;

export function createVaultService(deps: { db: Database; providers: ProviderRegistry; audit: AuditLog }) {
  const { db, providers, audit } = deps;
  const contextOf = (principal: Principal) => ({ now: Date.now(), ...(principal.ip !== undefined ? { ip: principal.ip } : {}) });

  /** The vault and the caller's policies on it: as loaded with the credential when the URL named it, else queried. */
  async function load(principal: Principal, vaultId: string): Promise<{ vault: VaultRow | undefined; policies: PolicyRule[] }> {
    if (!isUuid(vaultId)) return { vault: undefined, policies: [] };
    const id = vaultId.toLowerCase();
    if (principal.loaded?.vaultId === id) return principal.loaded;
    const vault = await findVault(db, principal.orgId, id);
    return { vault, policies: vault ? await findRules(db, id, principal) : [] };
  }

  /**
   * The vault, if the caller may do what it needs there. A vault the caller cannot see at all is answered like a
   * missing one (404 `vault_not_found`); on a vault it can see, a refused permission or path is 403 `access_denied`.
   */
  async function authorize(principal: Principal, vaultId: string, need: VaultNeed): Promise<AuthorizedVault> {
    const { vault, policies } = await load(principal, vaultId);
    // A missing vault is not a refusal (nothing is there to refuse); an invisible one is, and is audited.
    if (!vault) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    const standing = standingOn(subjectOf(principal), factsOf(vault), policies, contextOf(principal));
    if (!standing.visible) throw refused(404, "vault_not_found", `vault ${vaultId} not found`, { vault_id: vault.id, cause: "no_access" });
    if (need === "view") return { vault, standing };
    if (need === "manage") {
      if (standing.manager) return { vault, standing };
      throw refused(403, "access_denied", `managing vault ${vault.id} needs the owner or admin role, or having created it`, { vault_id: vault.id, needed: "manage" });
    }
    const decision = standing.decide(need.permission, need.path);
    if (decision.allowed) return { vault, standing };
    throw refused(403, "access_denied", `${need.permission} on ${need.path} is refused: ${DENIALS[decision.reason]}`, {
      vault_id: vault.id,
      path: need.path,
      permission: need.permission,
      cause: decision.reason,
      ...("policyId" in decision ? { policy_id: decision.policyId } : {}),
    });
  }

  return {
    authorize,

    /** `authorize`, when only the vault row is needed. */
    async require(principal: Principal, vaultId: string, need: VaultNeed): Promise<VaultRow> {
      return (await authorize(principal, vaultId, need)).vault;
    },

    /** Creates a vault with its own KEK at the default provider, and with MPC enabled at once if asked. */
    async create(principal: Principal, input: { name: string; description?: string }, mpc?: { mode: CustodyMode; holders: string[] }): Promise<VaultView> {
      // Scopes narrow, so empty scopes would let any agent create vaults: agents need vaults:write said outright.
      if (principal.type === "agent" && !principal.scopes.includes("vaults:write") && !principal.scopes.includes("*")) {
        throw refused(403, "scope_missing", "an agent creates vaults only with the vaults:write scope", { scope: "vaults:write" });
      }
      const id = randomUUID();
      const serverSlots = mpc ? mpc.holders.filter((h) => h !== CLIENT) : [];
      // All KEKs first: a provider that cannot be reached leaves nothing recorded.
      const [keks, mpcKeks] = await Promise.all([createVaultKeks(providers, id, [providers.defaultSlot]), createVaultKeks(providers, id, serverSlots)]);
      const kekId = keks.get(providers.defaultSlot)!;
      const provider = providers.get(providers.defaultSlot)!;
      const row = await db.transaction(async (tx) => {
        const inserted = await insertVault(tx, {
          id,
          org_id: principal.orgId,
          name: input.name,
          description: input.description ?? "",
          created_by: principal.id,
          created_by_type: principal.type,
          kek_slot: provider.slot,
          kek_id: kekId,
        });
        if (mpc) await recordMpcMode(tx, id, mpc.mode, mpc.holders, mpcKeks);
        const created = mpc ? (await findVault(tx, principal.orgId, id))! : inserted;
        // The events last: they hold the organization's audit chain head until the commit.
        await audit.recordIn(tx, principal, { action: "vault.create", resourceType: "vault", resourceId: id, details: { name: input.name } });
        if (mpc) await audit.recordIn(tx, principal, { action: "vault.mpc_enable", resourceType: "vault", resourceId: id, details: { custody_mode: mpc.mode.name, providers: mpc.holders } });
        return created;
      });
      return toVaultView(row);
    },

    /** The vaults the caller can see: every one for owners and admins; else those it created or holds an allow policy on. */
    async list(principal: Principal): Promise<VaultView[]> {
      const vaults = await listVaults(db, principal.orgId);
      if (principal.role === "owner" || principal.role === "admin") return vaults.map(toVaultView);
      const rules = await findRulesByVault(db, principal.orgId, principal);
      const subject = subjectOf(principal);
      const ctx = contextOf(principal);
      return vaults.filter((v) => standingOn(subject, factsOf(v), rules.get(v.id) ?? [], ctx).visible).map(toVaultView);
    },

    async get(principal: Principal, vaultId: string): Promise<VaultView> {
      return toVaultView((await authorize(principal, vaultId, "view")).vault);
    },

    async remove(principal: Principal, vaultId: string): Promise<void> {
      const { vault } = await authorize(principal, vaultId, "manage");
      await db.transaction(async (tx) => {
        if (!(await deleteVault(tx, principal.orgId, vault.id))) throw notFound("vault_not_found", `vault ${vaultId} not found`);
        await audit.recordIn(tx, principal, { action: "vault.delete", resourceType: "vault", resourceId: vault.id });
      });
    },
  };
}
