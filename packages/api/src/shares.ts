/**
 * Sharing one secret version: a link anyone holding it may open (optionally with a passphrase and an address
 * allow-list), or a share to a member or an agent, opened with their token. Every share expires and may be
 * limited to a number of opens. In client-custody vaults the value is sealed under a link key that only the
 * link's fragment (`#k=…`) carries; opening then needs it in `X-Share-Key`.
 */
import type { FromSchema } from "json-schema-to-ts";
import { SHARE_RECIPIENT_TYPES } from "./constants.js";
import type { Known } from "./common.js";

/** The header that carries a client-custody share's link key (the `k` of the link's fragment). */
export const SHARE_KEY_HEADER = "X-Share-Key";
/** The header that carries a share's passphrase (its UTF-8 bytes). */
export const SHARE_PASSPHRASE_HEADER = "X-Share-Passphrase";

// ---- requests -------------------------------------------------------------------------------------------

/** `POST /v1/secrets/{secret_id}/share`: `secret_id` is a version's `id`; that version is what the share serves. */
export const createShareBody = {
  type: "object",
  required: ["recipient_type", "expires_at"],
  properties: {
    recipient_type: { type: "string", enum: SHARE_RECIPIENT_TYPES },
    /** `user` and `agent` shares: the member's or agent's id. */
    recipient_id: { type: "string", maxLength: 64 },
    /** `external_email` shares: the address, recorded (no mail is sent). */
    email: { type: "string", minLength: 3, maxLength: 320, format: "email" },
    expires_at: { type: "string", format: "date-time" },
    max_access_count: { type: "integer", minimum: 1, maximum: 2_147_483_647 },
    /** Stored only as an argon2id hash; the opener sends it in `X-Share-Passphrase`. */
    passphrase: { type: "string", minLength: 1, maxLength: 1024 },
    /** Addresses or CIDRs the share may be opened from. */
    ip_allowlist: { type: "array", items: { type: "string", maxLength: 64 }, maxItems: 100 },
  },
} as const;
export type CreateShareBody = Known<FromSchema<typeof createShareBody>>;

export const secretIdParams = { type: "object", required: ["secret_id"], properties: { secret_id: { type: "string" } } } as const;
export const shareIdParams = { type: "object", required: ["share_id"], properties: { share_id: { type: "string" } } } as const;

// ---- responses ------------------------------------------------------------------------------------------

const recipientType = { type: "string", enum: SHARE_RECIPIENT_TYPES } as const;

/**
 * A new share. `share_url` is the dashboard's page for it; in client-custody vaults its fragment carries the
 * link key, which the server does not keep: this answer is the only place it appears.
 */
export const shareCreatedResponse = {
  type: "object",
  required: ["id", "share_url", "recipient_type", "expires_at"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    share_url: { type: "string" },
    recipient_type: recipientType,
    recipient_email: { type: "string" },
    expires_at: { type: "string", format: "date-time" },
    max_access_count: { type: "integer" },
  },
} as const;
export type ShareCreated = FromSchema<typeof shareCreatedResponse>;

/** An opened share: the value, and how many opens it has had (this one included) of how many (null: no limit). */
export const sharedSecretResponse = {
  type: "object",
  required: ["id", "path", "type", "value", "access_count", "max_access_count"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    path: { type: "string" },
    type: { type: "string" },
    value: { type: "string" },
    access_count: { type: "integer" },
    max_access_count: { type: ["integer", "null"] },
  },
} as const;
export type SharedSecret = FromSchema<typeof sharedSecretResponse>;

export const shareSummarySchema = {
  type: "object",
  required: ["id", "secret_path", "recipient_type", "access_count", "max_access_count", "expires_at", "created_at", "is_expired", "is_accepted"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    secret_path: { type: "string" },
    recipient_type: recipientType,
    recipient_email: { type: "string" },
    access_count: { type: "integer" },
    max_access_count: { type: ["integer", "null"] },
    expires_at: { type: "string", format: "date-time" },
    created_at: { type: "string", format: "date-time" },
    is_expired: { type: "boolean" },
    is_accepted: { type: "boolean" },
  },
} as const;
export type ShareSummary = FromSchema<typeof shareSummarySchema>;

/** `GET /v1/shares/outbound` (shares the caller made) and `GET /v1/shares/inbound` (shares made for the caller). */
export const shareListResponse = {
  type: "object",
  required: ["shares"],
  additionalProperties: false,
  properties: { shares: { type: "array", items: shareSummarySchema } },
} as const;
export type ShareList = FromSchema<typeof shareListResponse>;
