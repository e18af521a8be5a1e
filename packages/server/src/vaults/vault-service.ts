/** Vaults: each gets its own KEK at the default provider when it is created. */
import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { Database, Queryable } from "../db/database.js";
import { callProvider } from "../envelope/provider-calls.js";
import { recordAudit } from "../audit/audit.js";
import { isUuid } from "../ids.js";
import { forbidden, notFound } from "../errors.js";
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

/** Vault, agent, API-key and audit management is for users; agents get 403. */
export function requireUser(principal: Principal, what: string): void {
  if (principal.type !== "user") throw forbidden("forbidden", `agents may not ${what}`);
}


export type VaultService = ReturnType<typeof createVaultService>;

export function createVaultService(deps: { db: Database; providers: ProviderRegistry }) {
  const { db, providers } = deps;

  /** The vault, if the principal may use it; agents see only their `vault_ids` (empty: every vault). */
  async function require(principal: Principal, vaultId: string): Promise<VaultRow> {
    const visible = isUuid(vaultId) && (!principal.vaultIds?.length || principal.vaultIds.includes(vaultId.toLowerCase()));
    const vault = visible ? await findVault(db, principal.orgId, vaultId) : undefined;
    // Another organization's vault is indistinguishable from a missing one.
    if (!vault) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    return vault;
  }

  return {
    require,

    /** Creates a vault with its own KEK at the default provider, and with MPC enabled at once if asked. */
    async create(principal: Principal, input: { name: string; description?: string }, mpc?: { mode: CustodyMode; holders: string[] }): Promise<VaultView> {
      requireUser(principal, "create vaults");
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
        await recordAudit(tx, principal, { action: "vault.create", resourceType: "vault", resourceId: id, details: { name: input.name } });
        if (!mpc) return inserted;
        await recordMpcMode(tx, id, mpc.mode, mpc.holders, mpcKeks);
        await recordAudit(tx, principal, { action: "vault.mpc_enable", resourceType: "vault", resourceId: id, details: { custody_mode: mpc.mode.name, providers: mpc.holders } });
        return (await findVault(tx, principal.orgId, id))!;
      });
      return toVaultView(row);
    },

    async list(principal: Principal): Promise<VaultView[]> {
      const vaults = await listVaults(db, principal.orgId);
      const scope = principal.vaultIds?.length ? new Set(principal.vaultIds) : undefined;
      return vaults.filter((v) => !scope || scope.has(v.id)).map(toVaultView);
    },

    async get(principal: Principal, vaultId: string): Promise<VaultView> {
      return toVaultView(await require(principal, vaultId));
    },

    async remove(principal: Principal, vaultId: string): Promise<void> {
      requireUser(principal, "delete vaults");
      const vault = await require(principal, vaultId);
      await db.transaction(async (tx) => {
        if (!(await deleteVault(tx, principal.orgId, vault.id))) throw notFound("vault_not_found", `vault ${vaultId} not found`);
        await recordAudit(tx, principal, { action: "vault.delete", resourceType: "vault", resourceId: vault.id });
      });
    },
  };
}
