/** Vaults: each gets its own KEK at the default provider when it is created. */
import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { Database } from "../db/database.js";
import { callProvider } from "../envelope/provider-calls.js";
import { recordAudit } from "../audit/audit.js";
import { forbidden, notFound } from "../errors.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { deleteVault, findVault, insertVault, listVaults, type VaultRow } from "./vault-queries.js";

export interface VaultView {
  id: string;
  name: string;
  description: string;
  created_by: string;
  created_by_type: string;
  created_at: string;
  cmek_enabled: boolean;
}

export function toVaultView(row: VaultRow): VaultView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    created_by: row.created_by,
    created_by_type: row.created_by_type,
    created_at: new Date(row.created_at).toISOString(),
    cmek_enabled: false,
  };
}

/** Vault, agent, API-key and audit management is for users; agents get 403. */
export function requireUser(principal: Principal, what: string): void {
  if (principal.type !== "user") throw forbidden("forbidden", `agents may not ${what}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type VaultService = ReturnType<typeof createVaultService>;

export function createVaultService(deps: { db: Database; providers: ProviderRegistry }) {
  const { db, providers } = deps;

  /** The vault, if the principal may use it; agents see only their `vault_ids` (empty: every vault). */
  async function require(principal: Principal, vaultId: string): Promise<VaultRow> {
    const visible = UUID.test(vaultId) && (!principal.vaultIds?.length || principal.vaultIds.includes(vaultId.toLowerCase()));
    const vault = visible ? await findVault(db, principal.orgId, vaultId) : undefined;
    // Another organization's vault is indistinguishable from a missing one.
    if (!vault) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    return vault;
  }

  return {
    require,

    async create(principal: Principal, input: { name: string; description?: string }): Promise<VaultView> {
      requireUser(principal, "create vaults");
      const id = randomUUID();
      const provider = providers.get(providers.defaultSlot)!;
      const kekId = await callProvider(provider, () => provider.createKek(id));
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
        return inserted;
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
