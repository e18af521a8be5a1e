import type { PolicyEffect, PolicyPermission } from "@shardvault/api";
import type { Queryable } from "../db/database.js";
import type { PolicyConditions, PolicyRule } from "./decide.js";

export interface PolicyRow {
  id: string;
  vault_id: string;
  secret_path_pattern: string;
  principal_type: "user" | "agent";
  principal_id: string;
  permissions: PolicyPermission[];
  effect: PolicyEffect;
  priority: number;
  conditions: PolicyConditions;
  expires_at: Date | null;
  created_by: string;
  created_by_type: "user" | "agent";
  created_at: Date;
}

const COLUMNS =
  "id, vault_id, secret_path_pattern, principal_type, principal_id, permissions, effect, priority, conditions, expires_at, created_by, created_by_type, created_at";

/**
 * A JSON array of the rules (what the decision reads) of the policies `alias` names, for queries that load them
 * beside other rows in the same statement: `(SELECT <this> FROM policies x WHERE …)`.
 */
export const rulesJson = (alias: string) =>
  `coalesce(json_agg(json_build_object('id', ${alias}.id, 'pattern', ${alias}.secret_path_pattern, 'permissions', ${alias}.permissions,
     'effect', ${alias}.effect, 'priority', ${alias}.priority, 'expires_at', ${alias}.expires_at, 'conditions', ${alias}.conditions)), '[]'::json)`;

interface RuleJson {
  id: string;
  pattern: string;
  permissions: PolicyPermission[];
  effect: PolicyEffect;
  priority: number;
  expires_at: string | null;
  conditions: PolicyConditions;
}

/** The rules of `rulesJson`, as the decision takes them. */
export function toRules(json: unknown): PolicyRule[] {
  return (json as RuleJson[]).map((r) => ({
    id: r.id,
    pattern: r.pattern,
    permissions: r.permissions,
    effect: r.effect,
    priority: r.priority,
    expiresAt: r.expires_at === null ? null : Date.parse(r.expires_at),
    conditions: r.conditions,
  }));
}

export const toRule = (row: PolicyRow): PolicyRule => ({
  id: row.id,
  pattern: row.secret_path_pattern,
  permissions: row.permissions,
  effect: row.effect,
  priority: row.priority,
  expiresAt: row.expires_at === null ? null : new Date(row.expires_at).getTime(),
  conditions: row.conditions,
});

/** The caller's policies on one vault (when the vault was not loaded with the caller's credential). */
export async function findRules(db: Queryable, vaultId: string, principal: { type: string; id: string }): Promise<PolicyRule[]> {
  const [row] = await db.query<{ rules: unknown }>(`SELECT ${rulesJson("x")} AS rules FROM policies x WHERE x.vault_id = $1 AND x.principal_id = $2 AND x.principal_type = $3`, [
    vaultId,
    principal.id,
    principal.type,
  ]);
  return toRules(row?.rules ?? []);
}

/** The caller's policies on every vault of its organization, by vault (for the vault listing). */
export async function findRulesByVault(db: Queryable, orgId: string, principal: { type: string; id: string }): Promise<Map<string, PolicyRule[]>> {
  const rows = await db.query<PolicyRow>(
    `SELECT x.* FROM policies x JOIN vaults v ON v.id = x.vault_id
      WHERE v.org_id = $1 AND x.principal_id = $2 AND x.principal_type = $3`,
    [orgId, principal.id, principal.type],
  );
  const byVault = new Map<string, PolicyRule[]>();
  for (const row of rows) byVault.set(row.vault_id, [...(byVault.get(row.vault_id) ?? []), toRule(row)]);
  return byVault;
}

export async function insertPolicy(db: Queryable, row: Omit<PolicyRow, "created_at">): Promise<PolicyRow> {
  const [inserted] = await db.query<PolicyRow>(
    `INSERT INTO policies (id, vault_id, secret_path_pattern, principal_type, principal_id, permissions, effect, priority, conditions, expires_at, created_by, created_by_type)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12) RETURNING ${COLUMNS}`,
    [
      row.id, row.vault_id, row.secret_path_pattern, row.principal_type, row.principal_id, row.permissions, row.effect, row.priority,
      JSON.stringify(row.conditions), row.expires_at, row.created_by, row.created_by_type,
    ],
  );
  return inserted!;
}

export async function listPolicies(db: Queryable, vaultId: string): Promise<PolicyRow[]> {
  return db.query<PolicyRow>(`SELECT ${COLUMNS} FROM policies WHERE vault_id = $1 ORDER BY created_at, id`, [vaultId]);
}

export async function findPolicy(db: Queryable, vaultId: string, policyId: string): Promise<PolicyRow | undefined> {
  const [row] = await db.query<PolicyRow>(`SELECT ${COLUMNS} FROM policies WHERE id = $1 AND vault_id = $2`, [policyId, vaultId]);
  return row;
}

export async function updatePolicy(
  db: Queryable,
  vaultId: string,
  policyId: string,
  change: Pick<PolicyRow, "permissions" | "effect" | "priority" | "conditions" | "expires_at">,
): Promise<PolicyRow | undefined> {
  const [row] = await db.query<PolicyRow>(
    `UPDATE policies SET permissions = $3, effect = $4, priority = $5, conditions = $6::jsonb, expires_at = $7
      WHERE id = $1 AND vault_id = $2 RETURNING ${COLUMNS}`,
    [policyId, vaultId, change.permissions, change.effect, change.priority, JSON.stringify(change.conditions), change.expires_at],
  );
  return row;
}

export async function deletePolicy(db: Queryable, vaultId: string, policyId: string): Promise<boolean> {
  const rows = await db.query("DELETE FROM policies WHERE id = $1 AND vault_id = $2 RETURNING id", [policyId, vaultId]);
  return rows.length > 0;
}

/** Removes every policy naming a principal (when the member or agent is removed). */
export async function deletePoliciesOf(db: Queryable, principalType: "user" | "agent", principalId: string): Promise<void> {
  await db.query("DELETE FROM policies WHERE principal_type = $1 AND principal_id = $2", [principalType, principalId]);
}
