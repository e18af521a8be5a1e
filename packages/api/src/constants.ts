/**
 * The vocabularies of the API, the one list of each: the server validates requests against them and types its
 * own tables (custody modes, charsets) by them, so a mode or charset missing there fails to compile.
 */

/**
 * Secret types are open: any word matching this pattern is stored and echoed (1claw's clients send
 * `env_bundle`, `database_url`, …). `generic` is the default.
 */
export const SECRET_TYPE_PATTERN = "^[a-z][a-z0-9_]{0,63}$";
export type SecretType = string;
/** The types a picker offers (the dashboard's); a secret of any other type is shown as it is. */
export const KNOWN_SECRET_TYPES = ["generic", "password", "api_key", "certificate", "private_key", "ssh_key", "env", "env_bundle", "note", "file"] as const;

/** The MPC custody modes: the seed's three `custody_mode`s, and strict client custody (the client's share and either provider's). */
export const CUSTODY_MODE_NAMES = ["2of2_client_custody", "2of3_multi_hsm", "2of3_client_custody", "2of3_client_required"] as const;
export type CustodyModeName = (typeof CUSTODY_MODE_NAMES)[number];

/**
 * The custody modes whose provider slots together can rebuild a DEK without any client share (the server's
 * access structure, which its mode table decides and a test holds this list to): in 2-of-3 client custody, gcp
 * and aws hold 2 of the 3 Shamir shares; in strict client custody they hold only the server part.
 */
export const PROVIDER_QUORUM_MODES = ["2of3_multi_hsm", "2of3_client_custody"] as const satisfies readonly CustodyModeName[];

/** What 1claw's typed SDK sends as `mpc_custody`: its two aliases, or a mode name. */
export const MPC_CUSTODY_VALUES = ["2-of-2", "2-of-3", ...CUSTODY_MODE_NAMES] as const;
export type MpcCustodyValue = (typeof MPC_CUSTODY_VALUES)[number];

/** Alphabets of server-generated values (`secret-rotate`); `hex` is the default. */
export const CHARSET_NAMES = ["hex", "base64", "alphanumeric", "ascii"] as const;
export type CharsetName = (typeof CHARSET_NAMES)[number];

/** The MPC key lifecycle jobs (`POST …/mpc/rotate`, `…/mpc/replace-provider`, `…/mpc/refresh`). */
export const MPC_JOB_KINDS = ["rotate", "replace_provider", "refresh"] as const;
export type MpcJobKind = (typeof MPC_JOB_KINDS)[number];

/** A background job's states: resumable after a crash by posting the same call again. */
export const JOB_STATUSES = ["pending", "running", "completed", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const AUDIT_ACTIONS = [
  "secret.write",
  "secret.read",
  "secret.read_refused",
  "secret.delete",
  "secret.version_disable",
  "secret.rotate",
  "vault.create",
  "vault.delete",
  "vault.mpc_enable",
  "vault.cmek_enable",
  "vault.cmek_disable",
  "vault.cmek_rotate",
  "vault.cmek_rotate_completed",
  "vault.cmek_rotate_failed",
  "mpc.rotate_started",
  "mpc.rotate_completed",
  "mpc.rotate_failed",
  "mpc.replace_provider_started",
  "mpc.replace_provider_completed",
  "mpc.replace_provider_failed",
  "mpc.refresh_started",
  "mpc.refresh_completed",
  "mpc.refresh_failed",
  "secret.refresh",
  "agent.create",
  "agent.update",
  "agent.delete",
  "agent.rotate_key",
  "api_key.create",
  "api_key.revoke",
  "policy.create",
  "policy.update",
  "policy.delete",
  "member.invite",
  "member.join",
  "member.update",
  "member.remove",
  "auth.login",
  "auth.login_refused",
  "auth.password_change",
  "access.denied",
  "share.create",
  "share.access",
  "share.access_refused",
  "share.revoke",
  "share.accept",
  "share.decline",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Organization roles: `owner` and `admin` manage members, agents and every vault; `member` owns the vaults it creates. */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a scoped API key, agent or token may do (`*`: everything its role and policies allow). Each route needs
 * one of them (the server's route table); none implies another.
 */
export const SCOPES = [
  "vaults:read",
  "vaults:write",
  "secrets:read",
  "secrets:write",
  "secrets:delete",
  "policies:read",
  "policies:write",
  "agents:read",
  "agents:write",
  "audit:read",
  "shares:write",
  "*",
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Who a share is for: anyone holding its link (optionally with a passphrase), a member (`user`) or an agent by
 * id, an email address (recorded; the creator hands the link on), or the human who registered the calling
 * agent (`creator`, agents only).
 */
export const SHARE_RECIPIENT_TYPES = ["anyone_with_link", "user", "agent", "external_email", "creator"] as const;
export type ShareRecipientType = (typeof SHARE_RECIPIENT_TYPES)[number];

/** What a policy grants or denies on the paths its pattern matches. */
export const POLICY_PERMISSIONS = ["read", "write", "delete", "rotate"] as const;
export type PolicyPermission = (typeof POLICY_PERMISSIONS)[number];

export const POLICY_EFFECTS = ["allow", "deny"] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

/** The conditions a policy may carry; any other key is refused (a condition never silently ignored). */
export const POLICY_CONDITION_KEYS = ["ip_allowlist", "not_before", "not_after"] as const;
export type PolicyConditionKey = (typeof POLICY_CONDITION_KEYS)[number];
