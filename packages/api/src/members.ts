/** Organization members: sign-in by email and password, invitations, roles. */
import type { FromSchema } from "json-schema-to-ts";
import { ROLES } from "./constants.js";
import type { Known } from "./common.js";

/** Passwords: at least 12 characters; the upper bound keeps hashing cheap for the server. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

const email = { type: "string", minLength: 3, maxLength: 320, format: "email" } as const;
const password = { type: "string", maxLength: PASSWORD_MAX_LENGTH } as const;
const displayName = { type: "string", minLength: 1, maxLength: 200 } as const;

// ---- requests -------------------------------------------------------------------------------------------

/**
 * `POST /v1/auth/token`: any mismatch is the same 401. The password's length is not checked here, so a short
 * one is refused like a wrong one.
 */
export const signInBody = {
  type: "object",
  required: ["email", "password"],
  properties: { email: { type: "string", maxLength: 320 }, password },
} as const;
export type SignInBody = Known<FromSchema<typeof signInBody>>;

/** `POST /v1/org/invite` */
export const inviteBody = {
  type: "object",
  required: ["email"],
  properties: { email, role: { type: "string", enum: ROLES } },
} as const;
export type InviteBody = Known<FromSchema<typeof inviteBody>>;

/** `POST /v1/auth/accept-invite` (public) */
export const acceptInviteBody = {
  type: "object",
  required: ["invite_token", "password"],
  properties: { invite_token: { type: "string", minLength: 1, maxLength: 512 }, password, display_name: displayName },
} as const;
export type AcceptInviteBody = Known<FromSchema<typeof acceptInviteBody>>;

/** `PATCH /v1/org/members/{user_id}` */
export const updateMemberBody = { type: "object", required: ["role"], properties: { role: { type: "string", enum: ROLES } } } as const;
export type UpdateMemberBody = Known<FromSchema<typeof updateMemberBody>>;

export const memberParams = { type: "object", required: ["user_id"], properties: { user_id: { type: "string" } } } as const;

/** `PATCH /v1/auth/me`: the caller's own display name and email. */
export const updateMeBody = { type: "object", properties: { display_name: displayName, email } } as const;
export type UpdateMeBody = Known<FromSchema<typeof updateMeBody>>;

/**
 * `POST /v1/auth/change-password`: `current_password` is required once a password is set; a user who has none
 * yet (e.g. the first-start owner, signed in by API key) sets one with `new_password` alone.
 */
export const changePasswordBody = {
  type: "object",
  required: ["new_password"],
  properties: { current_password: password, new_password: password },
} as const;
export type ChangePasswordBody = Known<FromSchema<typeof changePasswordBody>>;

// ---- responses ------------------------------------------------------------------------------------------

/** A member as listed, and `GET /v1/auth/me`. `email` is null for a user who has none (the first-start owner). */
export const memberSchema = {
  type: "object",
  required: ["id", "email", "display_name", "role", "auth_method", "created_at"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    email: { type: ["string", "null"] },
    display_name: { type: "string" },
    role: { type: "string", enum: ROLES },
    /** `password` once the user has one, `api_key` before. */
    auth_method: { type: "string", enum: ["password", "api_key"] },
    created_at: { type: "string", format: "date-time" },
  },
} as const;
export type Member = FromSchema<typeof memberSchema>;

export const memberListResponse = {
  type: "object",
  required: ["members"],
  additionalProperties: false,
  properties: { members: { type: "array", items: memberSchema } },
} as const;
export type MemberList = FromSchema<typeof memberListResponse>;

/** The invitation: `invite_token` is shown in this answer only (a self-hosted server sends no mail). */
export const inviteResponse = {
  type: "object",
  required: ["message", "email", "role", "invite_token", "expires_at"],
  additionalProperties: false,
  properties: {
    message: { type: "string" },
    email: { type: "string" },
    role: { type: "string", enum: ROLES },
    invite_token: { type: "string" },
    expires_at: { type: "string", format: "date-time" },
  },
} as const;
export type InviteCreated = FromSchema<typeof inviteResponse>;
