/** Versioned secrets. Paths travel in the URL; see the README for their rules and encodings. */
import type { FromSchema } from "json-schema-to-ts";
import { CHARSET_NAMES, SECRET_TYPE_PATTERN } from "./constants.js";
import type { Known } from "./common.js";

/** A secret's `type`: open vocabulary, one lowercase word (see `SECRET_TYPE_PATTERN`). */
const secretType = { type: "string", pattern: SECRET_TYPE_PATTERN } as const;

// ---- requests -------------------------------------------------------------------------------------------

/** A server share on the client-side reconstruction wire: its x (1: the XOR server part), 32 bytes in base64. */
const wireShare = {
  type: "object",
  required: ["index", "share"],
  additionalProperties: false,
  properties: { index: { type: "integer", minimum: 1, maximum: 255 }, share: { type: "string", maxLength: 64 } },
} as const;

/**
 * A version sealed by the client (client-side reconstruction): for the version and holders the seal target
 * (`GET …/secret-seal/{path}`) named, the sealed value, the DEK commitment and the server shares to wrap.
 */
export const sealedWriteSchema = {
  type: "object",
  required: ["format", "version", "providers", "value", "commitment", "server_shares"],
  additionalProperties: false,
  properties: {
    format: { type: "integer" },
    version: { type: "integer", minimum: 1, maximum: 2_147_483_647 },
    providers: { type: "array", maxItems: 16, items: { type: "string", maxLength: 64 } },
    value: { type: "string" },
    commitment: { type: "string", maxLength: 64 },
    server_shares: { type: "array", maxItems: 16, items: wireShare },
  },
} as const;
export type SealedWrite = FromSchema<typeof sealedWriteSchema>;

/**
 * `PUT /v1/vaults/{vault_id}/secrets/{path}`: every PUT makes a new version. `value`, or in a client-custody
 * vault `sealed` (the value sealed by the client; exactly one of the two).
 */
export const writeSecretBody = {
  type: "object",
  oneOf: [{ required: ["value"] }, { required: ["sealed"] }],
  properties: {
    value: { type: "string" },
    sealed: sealedWriteSchema,
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

/** A client-side read (`X-Reconstruct: client`): the secret without its value, and what the client opens it with. */
export const sealedSecretResponse = {
  type: "object",
  required: [...metaRequired, "sealed", "created_by", "cmek_encrypted"],
  additionalProperties: false,
  properties: {
    ...metaProperties,
    created_by: { type: "string" },
    cmek_encrypted: { type: "boolean" },
    sealed: {
      type: "object",
      required: ["format", "value", "commitment", "context", "server_shares"],
      additionalProperties: false,
      properties: { format: { type: "integer" }, value: { type: "string" }, commitment: { type: "string" }, context: { type: "string" }, server_shares: { type: "array", items: wireShare } },
    },
  },
} as const;
export type SealedSecret = FromSchema<typeof sealedSecretResponse>;

/** `GET …/secret-seal/{path}`: what a client seals a new version for (the version it may claim, the vault's layout). */
export const sealTargetResponse = {
  type: "object",
  required: ["format", "vault_id", "path", "version", "custody", "scheme", "threshold", "providers"],
  additionalProperties: false,
  properties: {
    format: { type: "integer" },
    vault_id: { type: "string" },
    path: { type: "string" },
    version: { type: "integer" },
    custody: { type: "string" },
    scheme: { type: "string", enum: ["xor", "shamir"] },
    threshold: { type: "integer" },
    providers: { type: "array", items: { type: "string" } },
  },
} as const;
export type SealTarget = FromSchema<typeof sealTargetResponse>;

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
