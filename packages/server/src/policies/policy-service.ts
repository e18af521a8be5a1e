/**
 * Policies (access grants) on a vault: created, listed, changed and deleted by those who manage the vault (its
 * organization's owners and admins, and its creator). Every change is audited in its own transaction; since
 * every request loads the caller's policies afresh, a change counts from the next request on every instance.
 */
import { randomUUID } from "node:crypto";
import type { CreatePolicyBody, Policy, UpdatePolicyBody } from "@shardvault/api";
import type { AuditLog } from "../audit/audit.js";
import type { Principal } from "../auth/principal.js";
import type { Database, Queryable } from "../db/database.js";
import { badRequest, notFound } from "../errors.js";
import { isUuid } from "../ids.js";
import { isoTime } from "../times.js";
import type { VaultService } from "../vaults/vault-service.js";
import { checkConditions, checkPattern, parseExpiry, refuseUnsupported } from "./policy-input.js";
import * as q from "./policy-queries.js";

export const toPolicyView = (row: q.PolicyRow): Policy => ({
  id: row.id,
  vault_id: row.vault_id,
  secret_path_pattern: row.secret_path_pattern,
  principal_type: row.principal_type,
  principal_id: row.principal_id,
  permissions: row.permissions,
  effect: row.effect,
  priority: row.priority,
  conditions: row.conditions,
  expires_at: isoTime(row.expires_at),
  created_by: row.created_by,
  created_by_type: row.created_by_type,
  created_at: isoTime(row.created_at)!,
});

/** The member or agent a policy names, in the caller's organization; its type is looked up when not given. */
async function findGrantee(db: Queryable, orgId: string, id: string, type: "user" | "agent" | undefined): Promise<"user" | "agent"> {
  const rows = isUuid(id)
    ? await db.query<{ kind: "user" | "agent" }>(
        `SELECT 'user' AS kind FROM users WHERE id = $1 AND org_id = $2 UNION ALL SELECT 'agent' AS kind FROM agents WHERE id = $1 AND org_id = $2`,
        [id, orgId],
      )
    : [];
  const found = rows.find((r) => type === undefined || r.kind === type);
  if (!found) throw badRequest("principal_not_found", `${type ?? "principal"} ${id} is not a member or agent of this organization`);
  return found.kind;
}

/** Permissions are a set: listed once each, in a stable order. */
const permissionSet = (permissions: readonly string[]) => [...new Set(permissions)] as q.PolicyRow["permissions"];

export type PolicyService = ReturnType<typeof createPolicyService>;

export function createPolicyService(deps: { db: Database; vaults: VaultService; audit: AuditLog }) {
  const { db, vaults, audit } = deps;

  return {
    async create(principal: Principal, vaultId: string, body: CreatePolicyBody): Promise<Policy> {
      const vault = await vaults.require(principal, vaultId, "manage");
      refuseUnsupported(body);
      const row = {
        id: randomUUID(),
        vault_id: vault.id,
        secret_path_pattern: checkPattern(body.secret_path_pattern),
        principal_type: await findGrantee(db, principal.orgId, body.principal_id, body.principal_type),
        principal_id: body.principal_id.toLowerCase(),
        permissions: permissionSet(body.permissions),
        effect: body.effect ?? "allow",
        priority: body.priority ?? 0,
        conditions: checkConditions(body.conditions),
        expires_at: parseExpiry(body.expires_at),
        created_by: principal.id,
        created_by_type: principal.type,
      } as const;
      const inserted = await db.transaction(async (tx) => {
        const created = await q.insertPolicy(tx, row);
        await audit.recordIn(tx, principal, {
          action: "policy.create",
          resourceType: "policy",
          resourceId: created.id,
          details: { vault_id: vault.id, principal_type: row.principal_type, principal_id: row.principal_id, pattern: row.secret_path_pattern, permissions: row.permissions, effect: row.effect, priority: row.priority },
        });
        return created;
      });
      return toPolicyView(inserted);
    },

    async list(principal: Principal, vaultId: string): Promise<Policy[]> {
      const vault = await vaults.require(principal, vaultId, "manage");
      return (await q.listPolicies(db, vault.id)).map(toPolicyView);
    },

    /** Changes what a policy grants; its pattern and principal stay (delete and create to change those). */
    async update(principal: Principal, vaultId: string, policyId: string, body: UpdatePolicyBody): Promise<Policy> {
      const vault = await vaults.require(principal, vaultId, "manage");
      refuseUnsupported(body);
      const conditions = body.conditions === undefined ? undefined : checkConditions(body.conditions);
      const updated = await db.transaction(async (tx) => {
        const current = isUuid(policyId) ? await q.findPolicy(tx, vault.id, policyId) : undefined;
        if (!current) throw notFound("policy_not_found", `policy ${policyId} not found in vault ${vault.id}`);
        const row = await q.updatePolicy(tx, vault.id, current.id, {
          permissions: body.permissions === undefined ? current.permissions : permissionSet(body.permissions),
          effect: body.effect ?? current.effect,
          priority: body.priority ?? current.priority,
          conditions: conditions ?? current.conditions,
          expires_at: body.expires_at === undefined ? current.expires_at : parseExpiry(body.expires_at),
        });
        const fields = (["permissions", "effect", "priority", "conditions", "expires_at"] as const).filter((f) => body[f] !== undefined);
        await audit.recordIn(tx, principal, { action: "policy.update", resourceType: "policy", resourceId: current.id, details: { vault_id: vault.id, fields } });
        return row!;
      });
      return toPolicyView(updated);
    },

    async remove(principal: Principal, vaultId: string, policyId: string): Promise<void> {
      const vault = await vaults.require(principal, vaultId, "manage");
      await db.transaction(async (tx) => {
        if (!isUuid(policyId) || !(await q.deletePolicy(tx, vault.id, policyId))) throw notFound("policy_not_found", `policy ${policyId} not found in vault ${vault.id}`);
        await audit.recordIn(tx, principal, { action: "policy.delete", resourceType: "policy", resourceId: policyId.toLowerCase(), details: { vault_id: vault.id } });
      });
    },
  };
}
