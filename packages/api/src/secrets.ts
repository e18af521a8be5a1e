/** Versioned secrets. Paths travel in the URL; see the README for their rules and encodings. */
import type { FromSchema } from "json-schema-to-ts";
import { CHARSET_NAMES, SECRET_TYPE_PATTERN } from "./constants.js";
import type { Known } from "./common.js";

/** A secret's `type`: open vocabulary, one lowercase word (see `SECRET_TYPE_PATTERN`). */
const secretType = { type: "string", pattern: SECRET_TYPE_PATTERN } as const;

// ---- requests -------------------------------------------------------------------------------------------

/** `PUT /v1/vaults/{vault_id}/secrets/{path}`: every PUT makes a new version. */
export const writeSecretBody = {
  type: "object",
  required: ["value"],
  properties: {
    value: { type: "string" },
    type: secretType,
    metadata: { type: "object" },
    expires_at: { type: "string", format: "date-time" },
    max_access_count: { type: "integer", minimum: 1, maximum: 2_147_483_647 },
  },
} as const;
export type WriteSecretBody = Known<FromSchema<typeof writeSecretBody>>;

/** `POST /v1/vaults/{vault_id}/secret-rotate/{path}`: a new version with a server-generated value. */
export const rotateSecretBody = {
  type: "object",
  properties: {
    length: { type: "integer", minimum: 8, maximum: 1024 },
    charset: { type: "string", enum: CHARSET_NAMES },
    type: secretType,
  },
} as const;
export type RotateSecretBody = Known<FromSchema<typeof rotateSecretBody>>;

/** `GET …/secrets/{path}?version=N` */
export const readSecretQuery = { type: "object", properties: { version: { type: "string" } } } as const;
export type ReadSecretQuery = Known<FromSchema<typeof readSecretQuery>>;

/** The largest page `GET …/secrets?limit=` serves. */
export const SECRET_LIST_MAX_LIMIT = 1000;

/**
 * `GET …/secrets?prefix=&limit=&cursor=`. Without `limit`, every path under the prefix (1claw's list); with it,
 * at most `limit` paths in path order, and `next_cursor` in the answer while more may follow, to pass back as
 * `cursor` (opaque).
 */
export const listSecretsQuery = {
  type: "object",
  properties: {
    prefix: { type: "string", maxLength: 1024 },
    limit: { type: "string", pattern: "^(1000|[1-9][0-9]{0,2})$" },
    cursor: { type: "string", minLength: 1, maxLength: 8192 },
  },
} as const;
export type ListSecretsQuery = Known<FromSchema<typeof listSecretsQuery>>;

// ---- responses ------------------------------------------------------------------------------------------

const metaProperties = {
  id: { type: "string" },
  path: { type: "string" },
  type: secretType,
  version: { type: "integer" },
  created_at: { type: "string", format: "date-time" },
  metadata: { type: "object", additionalProperties: true },
  expires_at: { type: "string", format: "date-time" },
  is_disabled: { type: "boolean" },
} as const;
const metaRequired = ["id", "path", "type", "version", "created_at"] as const;

/** A version's metadata (lists and version listings): never the value. */
export const secretMetaSchema = { type: "object", required: metaRequired, additionalProperties: false, properties: metaProperties } as const;
export type SecretMeta = FromSchema<typeof secretMetaSchema>;

/** A write's answer. `client_share`: client-custody vaults only, returned exactly once, never stored. */
export const secretWrittenResponse = {
  type: "object",
  required: metaRequired,
  additionalProperties: false,
  properties: { ...metaProperties, client_share: { type: "string" } },
} as const;
export type SecretWritten = FromSchema<typeof secretWrittenResponse>;

/** A read: the secret with its value. */
export const secretResponse = {
  type: "object",
  required: [...metaRequired, "value", "created_by", "cmek_encrypted"],
  additionalProperties: false,
  properties: { ...metaProperties, value: { type: "string" }, created_by: { type: "string" }, cmek_encrypted: { type: "boolean" } },
} as const;
export type Secret = FromSchema<typeof secretResponse>;

/** Latest version per path, in path order; `next_cursor` when a page (`limit`) was asked for and more follow. */
export const secretListResponse = {
  type: "object",
  required: ["secrets"],
  additionalProperties: false,
  properties: { secrets: { type: "array", items: secretMetaSchema }, next_cursor: { type: "string" } },
} as const;
export type SecretList = FromSchema<typeof secretListResponse>;

export const secretVersionListResponse = {
  type: "object",
  required: ["versions"],
  additionalProperties: false,
  properties: { versions: { type: "array", items: secretMetaSchema } },
} as const;
export type SecretVersionList = FromSchema<typeof secretVersionListResponse>;
