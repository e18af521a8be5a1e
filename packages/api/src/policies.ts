/**
 * Policies (access grants): who may do what on which secret paths of a vault. The body is 1claw's: its SDK's
 * `access.grantAgent` / `grantHuman` send `policy_schema_version` and may send `attribute_conditions`,
 * `consensus_trigger`, `tx_conditions`; the server refuses those three when they say anything (it cannot
 * evaluate them, and a condition must never be silently ignored).
 */
import type { FromSchema } from "json-schema-to-ts";
import { POLICY_EFFECTS, POLICY_PERMISSIONS } from "./constants.js";
import type { Known } from "./common.js";

// ---- requests -------------------------------------------------------------------------------------------

const policyChangeFields = {
  permissions: { type: "array", items: { type: "string", enum: POLICY_PERMISSIONS }, minItems: 1, maxItems: 8 },
  effect: { type: "string", enum: POLICY_EFFECTS },
  priority: { type: "integer", minimum: 0, maximum: 2_147_483_647 },
  expires_at: { type: ["string", "null"], format: "date-time" },
  /** `ip_allowlist` (CIDRs or addresses), `not_before`, `not_after` (RFC 3339); other keys are refused. */
  conditions: { type: ["object", "null"] },
  attribute_conditions: { type: ["object", "null"] },
  consensus_trigger: { type: ["object", "null"] },
  tx_conditions: { type: ["object", "null"] },
} as const;

/** `POST /v1/vaults/{vault_id}/policies`; `principal_type` is looked up from the id when absent. */
export const createPolicyBody = {
  type: "object",
  required: ["secret_path_pattern", "principal_id", "permissions"],
  properties: {
    secret_path_pattern: { type: "string", minLength: 1, maxLength: 1024 },
    principal_type: { type: "string", enum: ["user", "agent"] },
    principal_id: { type: "string", maxLength: 64 },
    policy_schema_version: { type: "integer", minimum: 1, maximum: 2 },
    ...policyChangeFields,
  },
} as const;
export type CreatePolicyBody = Known<FromSchema<typeof createPolicyBody>>;

/** `PUT /v1/vaults/{vault_id}/policies/{policy_id}`: fields absent stay as they are; `expires_at: null` clears. */
export const updatePolicyBody = { type: "object", properties: policyChangeFields } as const;
export type UpdatePolicyBody = Known<FromSchema<typeof updatePolicyBody>>;

export const policyParams = {
  type: "object",
  required: ["vault_id", "policy_id"],
  properties: { vault_id: { type: "string" }, policy_id: { type: "string" } },
} as const;

// ---- responses ------------------------------------------------------------------------------------------

export const policySchema = {
  type: "object",
  required: [
    "id", "vault_id", "secret_path_pattern", "principal_type", "principal_id", "permissions", "effect", "priority",
    "conditions", "expires_at", "created_by", "created_by_type", "created_at",
  ],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    vault_id: { type: "string" },
    secret_path_pattern: { type: "string" },
    principal_type: { type: "string", enum: ["user", "agent"] },
    principal_id: { type: "string" },
    permissions: { type: "array", items: { type: "string", enum: POLICY_PERMISSIONS } },
    effect: { type: "string", enum: POLICY_EFFECTS },
    priority: { type: "integer" },
    conditions: {
      type: "object",
      additionalProperties: false,
      properties: {
        ip_allowlist: { type: "array", items: { type: "string" } },
        not_before: { type: "string", format: "date-time" },
        not_after: { type: "string", format: "date-time" },
      },
    },
    expires_at: { type: ["string", "null"], format: "date-time" },
    created_by: { type: "string" },
    created_by_type: { type: "string", enum: ["user", "agent"] },
    created_at: { type: "string", format: "date-time" },
  },
} as const;
export type Policy = FromSchema<typeof policySchema>;

export const policyListResponse = {
  type: "object",
  required: ["policies"],
  additionalProperties: false,
  properties: { policies: { type: "array", items: policySchema } },
} as const;
export type PolicyList = FromSchema<typeof policyListResponse>;
