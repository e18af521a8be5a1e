/**
 * Agents: non-human principals with an `ocv_` key. They reach a vault only through policies (or by owning it);
 * a non-empty `vault_ids` bounds what policies can grant them.
 */
import type { FromSchema } from "json-schema-to-ts";
import { SCOPES } from "./constants.js";
import type { Known } from "./common.js";

// ---- requests -------------------------------------------------------------------------------------------

const agentFields = {
  name: { type: "string", minLength: 1, maxLength: 200 },
  description: { type: "string", maxLength: 2000 },
  scopes: { type: "array", items: { type: "string", enum: SCOPES }, maxItems: 100 },
  vault_ids: { type: "array", items: { type: "string" }, maxItems: 1000 },
  expires_at: { type: ["string", "null"], format: "date-time" },
  token_ttl_seconds: { type: ["integer", "null"], minimum: 60, maximum: 86400 },
} as const;

/** `POST /v1/agents` */
export const createAgentBody = { type: "object", required: ["name"], properties: agentFields } as const;
export type CreateAgentBody = Known<FromSchema<typeof createAgentBody>>;

/** `PATCH /v1/agents/{agent_id}`: every field optional; `is_active: false` ends the agent's tokens at once. */
export const updateAgentBody = { type: "object", properties: { ...agentFields, is_active: { type: "boolean" } } } as const;
export type UpdateAgentBody = Known<FromSchema<typeof updateAgentBody>>;

export const agentParams = { type: "object", required: ["agent_id"], properties: { agent_id: { type: "string" } } } as const;

// ---- responses ------------------------------------------------------------------------------------------

export const agentSchema = {
  type: "object",
  required: [
    "id", "name", "description", "scopes", "vault_ids", "is_active", "key_prefix",
    "token_ttl_seconds", "expires_at", "created_by", "created_at", "last_used_at",
  ],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
    scopes: { type: "array", items: { type: "string" } },
    vault_ids: { type: "array", items: { type: "string" } },
    is_active: { type: "boolean" },
    key_prefix: { type: "string" },
    token_ttl_seconds: { type: ["integer", "null"] },
    expires_at: { type: ["string", "null"], format: "date-time" },
    created_by: { type: "string" },
    created_at: { type: "string", format: "date-time" },
    last_used_at: { type: ["string", "null"], format: "date-time" },
  },
} as const;
export type Agent = FromSchema<typeof agentSchema>;

/** Creation and key rotation: the agent and its new key (`ocv_…`), shown in this answer only. */
export const agentWithKeyResponse = {
  type: "object",
  required: ["agent", "api_key"],
  additionalProperties: false,
  properties: { agent: agentSchema, api_key: { type: "string" } },
} as const;
export type AgentWithKey = FromSchema<typeof agentWithKeyResponse>;

export const agentListResponse = {
  type: "object",
  required: ["agents"],
  additionalProperties: false,
  properties: { agents: { type: "array", items: agentSchema } },
} as const;
export type AgentList = FromSchema<typeof agentListResponse>;
