/** Token exchange, user API keys and the JWKS. */
import type { FromSchema } from "json-schema-to-ts";
import { SCOPES } from "./constants.js";
import type { Known } from "./common.js";

// ---- requests -------------------------------------------------------------------------------------------

/** `POST /v1/auth/api-key-token` */
export const apiKeyTokenBody = {
  type: "object",
  required: ["api_key"],
  properties: { api_key: { type: "string", minLength: 1, maxLength: 512 } },
} as const;
export type ApiKeyTokenBody = Known<FromSchema<typeof apiKeyTokenBody>>;

/** `POST /v1/auth/agent-token`: `agent_id` is optional, the key names its agent. */
export const agentTokenBody = {
  type: "object",
  required: ["api_key"],
  properties: { api_key: { type: "string", minLength: 1, maxLength: 512 }, agent_id: { type: "string", maxLength: 64 } },
} as const;
export type AgentTokenBody = Known<FromSchema<typeof agentTokenBody>>;

/** `POST /v1/auth/api-keys` */
export const createApiKeyBody = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    scopes: { type: "array", items: { type: "string", enum: SCOPES }, maxItems: 100 },
    expires_at: { type: "string", format: "date-time" },
  },
} as const;
export type CreateApiKeyBody = Known<FromSchema<typeof createApiKeyBody>>;

export const keyIdParams = { type: "object", required: ["key_id"], properties: { key_id: { type: "string" } } } as const;

// ---- responses ------------------------------------------------------------------------------------------

/** A user token. `expires_in` (seconds) is always present: clients compute their refresh time from it. */
export const tokenResponse = {
  type: "object",
  required: ["access_token", "token_type", "expires_in"],
  additionalProperties: false,
  properties: {
    access_token: { type: "string" },
    token_type: { type: "string" },
    expires_in: { type: "integer" },
  },
} as const;
export type TokenResponse = FromSchema<typeof tokenResponse>;

export const agentTokenResponse = {
  type: "object",
  required: ["access_token", "token_type", "expires_in", "agent_id", "vault_ids"],
  additionalProperties: false,
  properties: {
    ...tokenResponse.properties,
    agent_id: { type: "string" },
    vault_ids: { type: "array", items: { type: "string" } },
  },
} as const;
export type AgentTokenResponse = FromSchema<typeof agentTokenResponse>;

/** A user API key as listed: never the key itself. */
export const apiKeySchema = {
  type: "object",
  required: ["id", "name", "key_prefix", "scopes", "is_active", "created_at", "expires_at", "last_used_at"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    key_prefix: { type: "string" },
    scopes: { type: "array", items: { type: "string" } },
    is_active: { type: "boolean" },
    created_at: { type: "string", format: "date-time" },
    expires_at: { type: ["string", "null"], format: "date-time" },
    last_used_at: { type: ["string", "null"], format: "date-time" },
  },
} as const;
export type ApiKey = FromSchema<typeof apiKeySchema>;

/** The full key (`api_key`, `1ck_…`) is shown in this answer only. */
export const apiKeyCreatedResponse = {
  type: "object",
  required: ["key", "api_key"],
  additionalProperties: false,
  properties: { key: apiKeySchema, api_key: { type: "string" } },
} as const;
export type ApiKeyCreated = FromSchema<typeof apiKeyCreatedResponse>;

export const apiKeyListResponse = {
  type: "object",
  required: ["keys"],
  additionalProperties: false,
  properties: { keys: { type: "array", items: apiKeySchema } },
} as const;
export type ApiKeyList = FromSchema<typeof apiKeyListResponse>;

/** The public keys that verify issued JWTs (RFC 7517). */
export const jwksResponse = {
  type: "object",
  required: ["keys"],
  additionalProperties: false,
  properties: {
    keys: {
      type: "array",
      items: {
        type: "object",
        required: ["kty", "kid"],
        additionalProperties: true,
        properties: { kty: { type: "string" }, kid: { type: "string" }, alg: { type: "string" }, use: { type: "string" }, crv: { type: "string" }, x: { type: "string" } },
      },
    },
  },
} as const;
export type Jwks = FromSchema<typeof jwksResponse>;
