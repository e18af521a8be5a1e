/**
 * Agents: non-human principals with an `ocv_` key. They reach vaults through policies (or by creating them, with
 * the vaults:write scope); a non-empty `vault_ids` bounds what policies can grant them.
 */
import { randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/audit.js";
import { AGENT_KEY_PREFIX, displayPrefix, generateApiKey, hashApiKey } from "../auth/api-key.js";
import type { Principal } from "../auth/principal.js";
import type { Database, Queryable } from "../db/database.js";
import { badRequest, notFound } from "../errors.js";
import { isUuid } from "../ids.js";
import { deletePoliciesOf } from "../policies/policy-queries.js";
import { futureExpiry, isoTime as iso } from "../times.js";

interface AgentRow {
  id: string;
  name: string;
  description: string;
  scopes: string[];
  vault_ids: string[];
  is_active: boolean;
  key_prefix: string;
  token_ttl_seconds: number | null;
  expires_at: Date | null;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

export interface AgentInput {
  name?: string;
  description?: string;
  scopes?: string[];
  vault_ids?: string[];
  is_active?: boolean;
  expires_at?: string | null;
  token_ttl_seconds?: number | null;
}

const COLUMNS = "id, name, description, scopes, vault_ids, is_active, key_prefix, token_ttl_seconds, expires_at, created_by, created_at, last_used_at";

const toView = (row: AgentRow) => ({
  id: row.id,
  name: row.name,
  description: row.description,
  scopes: row.scopes,
  vault_ids: row.vault_ids,
  is_active: row.is_active,
  key_prefix: row.key_prefix,
  token_ttl_seconds: row.token_ttl_seconds,
  expires_at: iso(row.expires_at),
  created_by: row.created_by,
  created_at: iso(row.created_at),
  last_used_at: iso(row.last_used_at),
});
export type AgentView = ReturnType<typeof toView>;

/** `null` clears an agent's expiry; a time must be in the future. */
function parseExpiry(value: string | null | undefined): Date | null | undefined {
  return value === undefined || value === null ? value : futureExpiry(value);
}

async function checkVaults(db: Queryable, orgId: string, vaultIds: string[] | undefined): Promise<void> {
  if (!vaultIds || vaultIds.length === 0) return;
  const bad = vaultIds.find((id) => !isUuid(id));
  if (bad) throw badRequest("vault_not_found", `vault_ids: ${bad} is not a vault id`);
  const rows = await db.query<{ id: string }>("SELECT id FROM vaults WHERE org_id = $1 AND id = ANY($2::uuid[])", [orgId, vaultIds]);
  const found = new Set(rows.map((r) => r.id));
  const missing = vaultIds.find((id) => !found.has(id.toLowerCase()));
  if (missing) throw badRequest("vault_not_found", `vault_ids: vault ${missing} not found`);
}

export type AgentService = ReturnType<typeof createAgentService>;

export function createAgentService(deps: { db: Database; audit: AuditLog }) {
  const { db, audit } = deps;

  async function find(db: Queryable, orgId: string, agentId: string): Promise<AgentRow> {
    const [row] = isUuid(agentId) ? await db.query<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE id = $1 AND org_id = $2`, [agentId, orgId]) : [];
    if (!row) throw notFound("agent_not_found", `agent ${agentId} not found`);
    return row;
  }

  return {
    async create(user: Principal, input: AgentInput & { name: string }) {
      await checkVaults(db, user.orgId, input.vault_ids);
      const apiKey = generateApiKey(AGENT_KEY_PREFIX);
      const id = randomUUID();
      const row = await db.transaction(async (tx) => {
        const [inserted] = await tx.query<AgentRow>(
          `INSERT INTO agents (id, org_id, name, description, scopes, vault_ids, key_hash, key_prefix, token_ttl_seconds, expires_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
          [
            id, user.orgId, input.name, input.description ?? "", input.scopes ?? [], input.vault_ids ?? [],
            hashApiKey(apiKey), displayPrefix(apiKey), input.token_ttl_seconds ?? null, parseExpiry(input.expires_at) ?? null, user.id,
          ],
        );
        await audit.recordIn(tx, user, { action: "agent.create", resourceType: "agent", resourceId: id, details: { name: input.name } });
        return inserted!;
      });
      return { agent: toView(row), api_key: apiKey };
    },

    async list(user: Principal) {
      return (await db.query<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE org_id = $1 ORDER BY created_at, id`, [user.orgId])).map(toView);
    },

    async get(principal: Principal, agentId: string) {
      return toView(await find(db, principal.orgId, agentId));
    },

    async update(user: Principal, agentId: string, input: AgentInput) {
      await checkVaults(db, user.orgId, input.vault_ids);
      const sets: string[] = [];
      const params: unknown[] = [agentId, user.orgId];
      const set = (column: string, value: unknown, cast = "") => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      if (input.name !== undefined) set("name", input.name);
      if (input.description !== undefined) set("description", input.description);
      if (input.scopes !== undefined) set("scopes", input.scopes);
      if (input.vault_ids !== undefined) set("vault_ids", input.vault_ids, "::uuid[]");
      if (input.token_ttl_seconds !== undefined) set("token_ttl_seconds", input.token_ttl_seconds);
      if (input.expires_at !== undefined) set("expires_at", parseExpiry(input.expires_at));
      if (input.is_active !== undefined) {
        set("is_active", input.is_active);
        // Deactivation ends every token at once, and reactivation does not bring old tokens back.
        if (!input.is_active) sets.push("key_generation = key_generation + 1");
      }
      return db.transaction(async (tx) => {
        if (sets.length === 0) return toView(await find(tx, user.orgId, agentId));
        const [row] = isUuid(agentId)
          ? await tx.query<AgentRow>(`UPDATE agents SET ${sets.join(", ")} WHERE id = $1 AND org_id = $2 RETURNING ${COLUMNS}`, params)
          : [];
        if (!row) throw notFound("agent_not_found", `agent ${agentId} not found`);
        await audit.recordIn(tx, user, { action: "agent.update", resourceType: "agent", resourceId: agentId, details: { fields: Object.keys(input) } });
        return toView(row);
      });
    },

    async remove(user: Principal, agentId: string) {
      await db.transaction(async (tx) => {
        const agent = await find(tx, user.orgId, agentId);
        await deletePoliciesOf(tx, "agent", agent.id);
        await tx.query("DELETE FROM agents WHERE id = $1", [agent.id]);
        await audit.recordIn(tx, user, { action: "agent.delete", resourceType: "agent", resourceId: agent.id });
      });
    },

    async rotateKey(user: Principal, agentId: string) {
      const apiKey = generateApiKey(AGENT_KEY_PREFIX);
      const row = await db.transaction(async (tx) => {
        const agent = await find(tx, user.orgId, agentId);
        const [updated] = await tx.query<AgentRow>(
          `UPDATE agents SET key_hash = $2, key_prefix = $3, key_generation = key_generation + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
          [agent.id, hashApiKey(apiKey), displayPrefix(apiKey)],
        );
        await audit.recordIn(tx, user, { action: "agent.rotate_key", resourceType: "agent", resourceId: agent.id });
        return updated!;
      });
      return { agent: toView(row), api_key: apiKey };
    },
  };
}
