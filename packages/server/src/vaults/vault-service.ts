/** Vaults: each gets its own KEK at the default provider when it is created. */
import { randomUUID } from "node:crypto";
import type { Principal } from "../auth/principal.js";
import type { Database } from "../db/database.js";
import { callProvider } from "../envelope/provider-calls.js";
import { notFound } from "../errors.js";
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type VaultService = ReturnType<typeof createVaultService>;

export function createVaultService(deps: { db: Database; providers: ProviderRegistry }) {
  const { db, providers } = deps;

  async function require(principal: Principal, vaultId: string): Promise<VaultRow> {
    const vault = UUID.test(vaultId) ? await findVault(db, principal.orgId, vaultId) : undefined;
    // Another organization's vault is indistinguishable from a missing one.
    if (!vault) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    return vault;
  }

  return {
    require,

    async create(principal: Principal, input: { name: string; description?: string }): Promise<VaultView> {
      const id = randomUUID();
      const provider = providers.get(providers.defaultSlot)!;
      const kekId = await callProvider(provider, () => provider.createKek(id));
      const row = await insertVault(db, {
        id,
        org_id: principal.orgId,
        name: input.name,
        description: input.description ?? "",
        created_by: principal.id,
        created_by_type: principal.type,
        kek_slot: provider.slot,
        kek_id: kekId,
      });
      return toVaultView(row);
    },

    async list(principal: Principal): Promise<VaultView[]> {
      return (await listVaults(db, principal.orgId)).map(toVaultView);
    },

    async get(principal: Principal, vaultId: string): Promise<VaultView> {
      return toVaultView(await require(principal, vaultId));
    },

    async remove(principal: Principal, vaultId: string): Promise<void> {
      const vault = await require(principal, vaultId);
      if (!(await deleteVault(db, principal.orgId, vault.id))) throw notFound("vault_not_found", `vault ${vaultId} not found`);
    },
  };
}
