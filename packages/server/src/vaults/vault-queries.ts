import type { Queryable } from "../db/database.js";

export interface VaultRow {
  id: string;
  org_id: string;
  name: string;
  description: string;
  created_by: string;
  created_by_type: "user" | "agent";
  kek_slot: string;
  kek_id: string;
  mpc_custody: string | null;
  mpc_threshold: number | null;
  mpc_providers: string[] | null;
  /** The generation of the MPC layout (holders and per-slot KEKs); each lifecycle job starts a new one. */
  mpc_generation: number;
  cmek_fingerprint: string | null;
  created_at: Date;
}

const NAMES = ["id", "org_id", "name", "description", "created_by", "created_by_type", "kek_slot", "kek_id", "mpc_custody", "mpc_threshold", "mpc_providers", "mpc_generation", "cmek_fingerprint", "created_at"];
const COLUMNS = NAMES.join(", ");

/** The vault columns of a query that joins `vaults` under another alias (e.g. `v.id, v.org_id, …`). */
export const vaultColumns = (alias: string) => NAMES.map((name) => `${alias}.${name}`).join(", ");

/** The vault's columns of a row that holds others beside them. */
export const pickVault = (row: Record<string, unknown>): Partial<VaultRow> => Object.fromEntries(NAMES.map((name) => [name, row[name]]));

export async function insertVault(db: Queryable, vault: Omit<VaultRow, "created_at" | "mpc_custody" | "mpc_threshold" | "mpc_providers" | "mpc_generation" | "cmek_fingerprint">): Promise<VaultRow> {
  const [row] = await db.query<VaultRow>(
    `INSERT INTO vaults (id, org_id, name, description, created_by, created_by_type, kek_slot, kek_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [vault.id, vault.org_id, vault.name, vault.description, vault.created_by, vault.created_by_type, vault.kek_slot, vault.kek_id],
  );
  return row!;
}

export async function findVault(db: Queryable, orgId: string, vaultId: string): Promise<VaultRow | undefined> {
  const [row] = await db.query<VaultRow>(`SELECT ${COLUMNS} FROM vaults WHERE id = $1 AND org_id = $2`, [vaultId, orgId]);
  return row;
}

/** A vault by id alone, for background work that acts for no principal (e.g. a rotation job). */
export async function findVaultById(db: Queryable, vaultId: string): Promise<VaultRow | undefined> {
  const [row] = await db.query<VaultRow>(`SELECT ${COLUMNS} FROM vaults WHERE id = $1`, [vaultId]);
  return row;
}

export async function listVaults(db: Queryable, orgId: string): Promise<VaultRow[]> {
  return db.query<VaultRow>(`SELECT ${COLUMNS} FROM vaults WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
}

export async function deleteVault(db: Queryable, orgId: string, vaultId: string): Promise<boolean> {
  const rows = await db.query("DELETE FROM vaults WHERE id = $1 AND org_id = $2 RETURNING id", [vaultId, orgId]);
  return rows.length > 0;
}

/** The vault row locked for the rest of the transaction: `share` for writes, `update` for a mode change. */
export async function lockVault(db: Queryable, vaultId: string, mode: "share" | "update"): Promise<VaultRow | undefined> {
  const [row] = await db.query<VaultRow>(`SELECT ${COLUMNS} FROM vaults WHERE id = $1 FOR ${mode === "share" ? "SHARE" : "UPDATE"}`, [vaultId]);
  return row;
}

/** Each server slot's KEK for an MPC vault. */
export async function findMpcKeks(db: Queryable, vaultId: string): Promise<Map<string, string>> {
  const rows = await db.query<{ provider: string; kek_id: string }>("SELECT provider, kek_id FROM vault_mpc_keks WHERE vault_id = $1", [vaultId]);
  return new Map(rows.map((r) => [r.provider, r.kek_id]));
}

/** Records an MPC vault's per-slot KEKs, replacing the previous set. */
export async function recordMpcKeks(tx: Queryable, vaultId: string, holders: readonly string[], keks: ReadonlyMap<string, string>): Promise<void> {
  await tx.query("DELETE FROM vault_mpc_keks WHERE vault_id = $1", [vaultId]);
  for (const [slot, kekId] of keks) {
    await tx.query("INSERT INTO vault_mpc_keks (vault_id, provider, share_index, kek_id) VALUES ($1, $2, $3, $4)", [vaultId, slot, holders.indexOf(slot) + 1, kekId]);
  }
}

/** Starts a new generation of an MPC vault's layout: new writes use these holders and KEKs from now on. */
export async function switchMpcLayout(tx: Queryable, vaultId: string, generation: number, holders: readonly string[], keks: ReadonlyMap<string, string>): Promise<void> {
  await tx.query("UPDATE vaults SET mpc_generation = $2, mpc_providers = $3 WHERE id = $1", [vaultId, generation, holders]);
  await recordMpcKeks(tx, vaultId, holders, keks);
}
