/**
 * The API's types and vocabularies, generated from @shardvault/api (the JSON Schemas the server validates
 * requests with and publishes as OpenAPI) by scripts/generate-api-types.ts. Do not edit: run
 * `npm run generate -w @shardvault/sdk`. Plain declarations, so the SDK needs no package to type-check.
 */
/* eslint-disable */

/** The types a picker offers (the dashboard's); a secret of any other type is shown as it is. */
export const KNOWN_SECRET_TYPES = ["generic", "password", "api_key", "certificate", "private_key", "ssh_key", "env", "env_bundle", "note", "file"] as const;

/** The MPC custody modes: the seed's three `custody_mode`s, and strict client custody (the client's share and either provider's). */
export const CUSTODY_MODE_NAMES = ["2of2_client_custody", "2of3_multi_hsm", "2of3_client_custody", "2of3_client_required"] as const;

/**
 * The custody modes whose provider slots together can rebuild a DEK without any client share (the server's
 * access structure, which its mode table decides and a test holds this list to): in 2-of-3 client custody, gcp
 * and aws hold 2 of the 3 Shamir shares; in strict client custody they hold only the server part.
 */
export const PROVIDER_QUORUM_MODES = ["2of3_multi_hsm", "2of3_client_custody"] as const;

/** What 1claw's typed SDK sends as `mpc_custody`: its two aliases, or a mode name. */
export const MPC_CUSTODY_VALUES = ["2-of-2", "2-of-3", "2of2_client_custody", "2of3_multi_hsm", "2of3_client_custody", "2of3_client_required"] as const;

/** Alphabets of server-generated values (`secret-rotate`); `hex` is the default. */
export const CHARSET_NAMES = ["hex", "base64", "alphanumeric", "ascii"] as const;

export const AUDIT_ACTIONS = ["secret.write", "secret.read", "secret.read_refused", "secret.delete", "secret.version_disable", "secret.rotate", "vault.create", "vault.delete", "vault.mpc_enable", "vault.cmek_enable", "vault.cmek_disable", "vault.cmek_rotate", "vault.cmek_rotate_completed", "vault.cmek_rotate_failed", "mpc.rotate_started", "mpc.rotate_completed", "mpc.rotate_failed", "mpc.replace_provider_started", "mpc.replace_provider_completed", "mpc.replace_provider_failed", "mpc.refresh_started", "mpc.refresh_completed", "mpc.refresh_failed", "secret.refresh", "agent.create", "agent.update", "agent.delete", "agent.rotate_key", "api_key.create", "api_key.revoke", "policy.create", "policy.update", "policy.delete", "member.invite", "member.join", "member.update", "member.remove", "auth.login", "auth.login_refused", "auth.password_change", "access.denied", "share.create", "share.access", "share.access_refused", "share.revoke", "share.accept", "share.decline"] as const;

/** Organization roles: `owner` and `admin` manage members, agents and every vault; `member` owns the vaults it creates. */
export const ROLES = ["owner", "admin", "member"] as const;

/**
 * What a scoped API key, agent or token may do (`*`: everything its role and policies allow). Each route needs
 * one of them (the server's route table); none implies another.
 */
export const SCOPES = ["vaults:read", "vaults:write", "secrets:read", "secrets:write", "secrets:delete", "policies:read", "policies:write", "agents:read", "agents:write", "audit:read", "shares:write", "*"] as const;

/** What a policy grants or denies on the paths its pattern matches. */
export const POLICY_PERMISSIONS = ["read", "write", "delete", "rotate"] as const;

/**
 * Who a share is for: anyone holding its link (optionally with a passphrase), a member (`user`) or an agent by
 * id, an email address (recorded; the creator hands the link on), or the human who registered the calling
 * agent (`creator`, agents only).
 */
export const SHARE_RECIPIENT_TYPES = ["anyone_with_link", "user", "agent", "external_email", "creator"] as const;

export type Agent = {
  description: string;
  id: string;
  name: string;
  scopes: string[];
  vault_ids: string[];
  is_active: boolean;
  key_prefix: string;
  token_ttl_seconds: number | null;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
};

export type AgentList = {
  agents: Agent[];
};

export type AgentTokenResponse = {
  vault_ids: string[];
  access_token: string;
  token_type: string;
  expires_in: number;
  agent_id: string;
};

/** Creation and key rotation: the agent and its new key (`ocv_…`), shown in this answer only. */
export type AgentWithKey = {
  agent: Agent;
  api_key: string;
};

/** A user API key as listed: never the key itself. */
export type ApiKey = {
  id: string;
  name: string;
  scopes: string[];
  is_active: boolean;
  key_prefix: string;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
};

/** The full key (`api_key`, `1ck_…`) is shown in this answer only. */
export type ApiKeyCreated = {
  api_key: string;
  key: ApiKey;
};

export type ApiKeyList = {
  keys: ApiKey[];
};

export type AuditAction = "secret.write" | "secret.read" | "secret.read_refused" | "secret.delete" | "secret.version_disable" | "secret.rotate" | "vault.create" | "vault.delete" | "vault.mpc_enable" | "vault.cmek_enable" | "vault.cmek_disable" | "vault.cmek_rotate" | "vault.cmek_rotate_completed" | "vault.cmek_rotate_failed" | "mpc.rotate_started" | "mpc.rotate_completed" | "mpc.rotate_failed" | "mpc.replace_provider_started" | "mpc.replace_provider_completed" | "mpc.replace_provider_failed" | "mpc.refresh_started" | "mpc.refresh_completed" | "mpc.refresh_failed" | "secret.refresh" | "agent.create" | "agent.update" | "agent.delete" | "agent.rotate_key" | "api_key.create" | "api_key.revoke" | "policy.create" | "policy.update" | "policy.delete" | "member.invite" | "member.join" | "member.update" | "member.remove" | "auth.login" | "auth.login_refused" | "auth.password_change" | "access.denied" | "share.create" | "share.access" | "share.access_refused" | "share.revoke" | "share.accept" | "share.decline";

/**
 * An event. `integrity_hash` and `prev_event_id` are its link in the organization's hash chain (see
 * `GET /v1/audit/verify`); both are null for events recorded before the chain began, and `prev_event_id` is
 * null for the chain's first event.
 */
export type AuditEvent = {
  id: string;
  created_at: string;
  action: string;
  actor_id: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  org_id: string;
  details: {
    [x: string]: unknown;
  };
  ip_address: string | null;
  integrity_hash: string | null;
  prev_event_id: string | null;
};

export type AuditEvents = {
  events: AuditEvent[];
  count: number;
};

/**
 * `GET /v1/audit/verify`: 1claw's shape, plus `events_unchained` (events from before the chain began, reported as
 * such rather than as a break) and `head` (the chain's newest event when the window reached it and the chain is
 * valid: record it elsewhere to detect a later truncation).
 */
export type AuditVerification = {
  chain_valid: boolean;
  events_verified: number;
  events_checked: number;
  events_unchained: number;
  broken_at_event_id: string | null;
  head: {
    integrity_hash: string;
    event_id: string;
  } | null;
  scheme: {
    algorithm: string;
    chain_structure: string;
    hash_field: string;
    link_field: string;
    documentation: string;
  };
};

/** Alphabets of server-generated values (`secret-rotate`); `hex` is the default. */
export type CharsetName = "hex" | "base64" | "alphanumeric" | "ascii";

/** A key rotation job: re-encrypts every CMEK version in batches; resumable. */
export type CmekRotationJob = {
  error?: string | undefined;
  id: string;
  created_at: string;
  vault_id: string;
  old_fingerprint: string;
  new_fingerprint: string;
  status: "pending" | "running" | "completed" | "failed";
  total_secrets: number;
  processed: number;
  started_at: string | null;
  completed_at: string | null;
};

/** `POST /v1/agents` */
export type CreateAgentBody = {
  description?: string | undefined;
  scopes?: (Scope)[] | undefined;
  vault_ids?: string[] | undefined;
  token_ttl_seconds?: number | null | undefined;
  expires_at?: string | null | undefined;
  name: string;
};

/** `POST /v1/auth/api-keys` */
export type CreateApiKeyBody = {
  scopes?: (Scope)[] | undefined;
  expires_at?: string | undefined;
  name: string;
};

/** `POST /v1/vaults`; with `custody_mode` or `mpc_custody`, MPC is enabled at creation. */
export type CreateVaultBody = {
  description?: string | undefined;
  custody_mode?: CustodyModeName | undefined;
  mpc_custody?: MpcCustodyValue | undefined;
  providers?: string[] | undefined;
  name: string;
};

/** The MPC custody modes: the seed's three `custody_mode`s, and strict client custody (the client's share and either provider's). */
export type CustodyModeName = "2of2_client_custody" | "2of3_multi_hsm" | "2of3_client_custody" | "2of3_client_required";

/** `POST /v1/vaults/{vault_id}/cmek` */
export type EnableCmekBody = {
  fingerprint: string;
};

/** `POST /v1/vaults/{vault_id}/mpc`: `custody_mode` (or `mpc_custody`) is required by the server. */
export type EnableMpcBody = {
  custody_mode?: CustodyModeName | undefined;
  mpc_custody?: MpcCustodyValue | undefined;
  providers?: string[] | undefined;
};

export type Health = {
  status: "healthy" | "degraded";
  version: string;
};

/** Per-slot detail only for a user token; otherwise just the overall status. */
export type HsmHealth = {
  providers?: {
    status: "degraded" | "ok" | "unavailable";
    slot: string;
    backend: string;
    last_latency_ms: number;
    development: boolean;
    corrupt_shares: number;
  }[] | undefined;
  status: "degraded" | "ok" | "unavailable";
};

/** The public keys that verify issued JWTs (RFC 7517). */
export type Jwks = {
  keys: {
    [x: string]: unknown;
    alg?: string | undefined;
    use?: string | undefined;
    crv?: string | undefined;
    x?: string | undefined;
    kty: string;
    kid: string;
  }[];
};

/** What 1claw's typed SDK sends as `mpc_custody`: its two aliases, or a mode name. */
export type MpcCustodyValue = "2of2_client_custody" | "2of3_multi_hsm" | "2of3_client_custody" | "2of3_client_required" | "2-of-2" | "2-of-3";

/** `GET /v1/vaults/{vault_id}/mpc/jobs/{job_id}`: a lifecycle job's progress over the vault's live versions. */
export type MpcJob = {
  error?: string | undefined;
  id: string;
  status: "pending" | "running" | "completed" | "failed";
  processed: number;
  kind: MpcJobKind;
  total: number;
};

/** The MPC key lifecycle jobs (`POST …/mpc/rotate`, `…/mpc/replace-provider`, `…/mpc/refresh`). */
export type MpcJobKind = "rotate" | "replace_provider" | "refresh";

/** The 202 answer of a lifecycle call, with `Location: /v1/vaults/{vault_id}/mpc/jobs/{job_id}`. */
export type MpcJobStarted = {
  status: "pending" | "running" | "completed" | "failed";
  kind: MpcJobKind;
  job_id: string;
};

/**
 * RFC 7807 problem details, the one error shape of the API. `code` is Shardvault's stable machine-readable
 * word; `type` is `about:blank` or `resource_limit_exceeded`.
 */
export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
};

/** `POST /v1/vaults/{vault_id}/mpc/replace-provider`: move the vault's share from slot `from` to slot `to`. */
export type ReplaceProviderBody = {
  from: string;
  to: string;
};

/** `POST /v1/vaults/{vault_id}/secret-rotate/{path}`: a new version with a server-generated value. */
export type RotateSecretBody = {
  type?: string | undefined;
  length?: number | undefined;
  charset?: CharsetName | undefined;
};

/** A client-side read (`X-Reconstruct: client`): the secret without its value, and what the client opens it with. */
export type SealedSecret = {
  expires_at?: string | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  is_disabled?: boolean | undefined;
  type: string;
  id: string;
  created_by: string;
  created_at: string;
  version: number;
  path: string;
  sealed: {
    format: number;
    value: string;
    commitment: string;
    context: string;
    server_shares: {
      index: number;
      share: string;
    }[];
  };
  cmek_encrypted: boolean;
};

/** `GET …/secret-seal/{path}`: what a client seals a new version for (the version it may claim, the vault's layout). */
export type SealTarget = {
  format: number;
  scheme: "xor" | "shamir";
  vault_id: string;
  providers: string[];
  version: number;
  path: string;
  custody: string;
  threshold: number;
};

/** A read: the secret with its value. */
export type Secret = {
  expires_at?: string | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  is_disabled?: boolean | undefined;
  type: string;
  id: string;
  created_by: string;
  created_at: string;
  value: string;
  version: number;
  path: string;
  cmek_encrypted: boolean;
};

/** Latest version per path, in path order; `next_cursor` when a page (`limit`) was asked for and more follow. */
export type SecretList = {
  next_cursor?: string | undefined;
  secrets: SecretMeta[];
};

/** A version's metadata (lists and version listings): never the value. */
export type SecretMeta = {
  expires_at?: string | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  is_disabled?: boolean | undefined;
  type: string;
  id: string;
  created_at: string;
  version: number;
  path: string;
};

/**
 * `POST /v1/vaults/{vault_id}/secret-refresh/{path}[?version=N]` with `X-Client-Share`: the version's DEK is
 * split afresh under the vault's current providers; the new client share is returned this once and the old
 * one is refused from then on.
 */
export type SecretRefreshed = {
  version: number;
  client_share: string;
};

export type SecretType = string;

export type SecretVersionList = {
  versions: SecretMeta[];
};

/** A write's answer. `client_share`: client-custody vaults only, returned exactly once, never stored. */
export type SecretWritten = {
  expires_at?: string | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  is_disabled?: boolean | undefined;
  client_share?: string | undefined;
  type: string;
  id: string;
  created_at: string;
  version: number;
  path: string;
};

/** A user token. `expires_in` (seconds) is always present: clients compute their refresh time from it. */
export type TokenResponse = {
  access_token: string;
  token_type: string;
  expires_in: number;
};

/** `PATCH /v1/agents/{agent_id}`: every field optional; `is_active: false` ends the agent's tokens at once. */
export type UpdateAgentBody = {
  description?: string | undefined;
  name?: string | undefined;
  scopes?: (Scope)[] | undefined;
  vault_ids?: string[] | undefined;
  is_active?: boolean | undefined;
  token_ttl_seconds?: number | null | undefined;
  expires_at?: string | null | undefined;
};

export type Vault = {
  mpc_custody?: CustodyModeName | undefined;
  cmek_fingerprint?: string | undefined;
  mpc_threshold?: number | undefined;
  mpc_providers?: string[] | undefined;
  description: string;
  id: string;
  name: string;
  created_by: string;
  created_at: string;
  created_by_type: "agent" | "user";
  cmek_enabled: boolean;
};

export type VaultList = {
  vaults: Vault[];
};

/**
 * Enabling MPC answers the vault; when existing versions of a client-custody vault were re-protected, their
 * new client shares come with it, shown this once.
 */
export type VaultMpcEnabled = {
  mpc_custody?: CustodyModeName | undefined;
  cmek_fingerprint?: string | undefined;
  mpc_threshold?: number | undefined;
  mpc_providers?: string[] | undefined;
  client_shares?: {
    version: number;
    path: string;
    client_share: string;
  }[] | undefined;
  description: string;
  id: string;
  name: string;
  created_by: string;
  created_at: string;
  created_by_type: "agent" | "user";
  cmek_enabled: boolean;
};

/**
 * `PUT /v1/vaults/{vault_id}/secrets/{path}`: every PUT makes a new version. `value`, or in a client-custody
 * vault `sealed` (the value sealed by the client; exactly one of the two).
 */
export type WriteSecretBody = {
  type?: string | undefined;
  expires_at?: string | undefined;
  sealed?: {
    format: number;
    value: string;
    providers: string[];
    version: number;
    commitment: string;
    server_shares: {
      index: number;
      share: string;
    }[];
  } | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  max_access_count?: number | undefined;
  value: string;
} | {
  type?: string | undefined;
  expires_at?: string | undefined;
  value?: string | undefined;
  metadata?: {
    [x: string]: unknown;
  } | undefined;
  max_access_count?: number | undefined;
  sealed: {
    format: number;
    value: string;
    providers: string[];
    version: number;
    commitment: string;
    server_shares: {
      index: number;
      share: string;
    }[];
  };
};

/** Organization roles: `owner` and `admin` manage members, agents and every vault; `member` owns the vaults it creates. */
export type Role = "owner" | "admin" | "member";

/**
 * What a scoped API key, agent or token may do (`*`: everything its role and policies allow). Each route needs
 * one of them (the server's route table); none implies another.
 */
export type Scope = "vaults:read" | "vaults:write" | "secrets:read" | "secrets:write" | "secrets:delete" | "policies:read" | "policies:write" | "agents:read" | "agents:write" | "audit:read" | "shares:write" | "*";

/** What a policy grants or denies on the paths its pattern matches. */
export type PolicyPermission = "rotate" | "read" | "write" | "delete";

export type PolicyEffect = "allow" | "deny";

export type Policy = {
  id: string;
  expires_at: string | null;
  created_by: string;
  created_at: string;
  vault_id: string;
  created_by_type: "agent" | "user";
  secret_path_pattern: string;
  principal_type: "agent" | "user";
  principal_id: string;
  permissions: (PolicyPermission)[];
  effect: PolicyEffect;
  priority: number;
  conditions: {
    ip_allowlist?: string[] | undefined;
    not_before?: string | undefined;
    not_after?: string | undefined;
  };
};

export type PolicyList = {
  policies: Policy[];
};

/** `POST /v1/vaults/{vault_id}/policies`; `principal_type` is looked up from the id when absent. */
export type CreatePolicyBody = {
  expires_at?: string | null | undefined;
  principal_type?: "agent" | "user" | undefined;
  effect?: PolicyEffect | undefined;
  priority?: number | undefined;
  conditions?: {
    [x: string]: unknown;
  } | null | undefined;
  attribute_conditions?: {
    [x: string]: unknown;
  } | null | undefined;
  consensus_trigger?: {
    [x: string]: unknown;
  } | null | undefined;
  tx_conditions?: {
    [x: string]: unknown;
  } | null | undefined;
  policy_schema_version?: number | undefined;
  secret_path_pattern: string;
  principal_id: string;
  permissions: (PolicyPermission)[];
};

/** `PUT /v1/vaults/{vault_id}/policies/{policy_id}`: fields absent stay as they are; `expires_at: null` clears. */
export type UpdatePolicyBody = {
  expires_at?: string | null | undefined;
  permissions?: (PolicyPermission)[] | undefined;
  effect?: PolicyEffect | undefined;
  priority?: number | undefined;
  conditions?: {
    [x: string]: unknown;
  } | null | undefined;
  attribute_conditions?: {
    [x: string]: unknown;
  } | null | undefined;
  consensus_trigger?: {
    [x: string]: unknown;
  } | null | undefined;
  tx_conditions?: {
    [x: string]: unknown;
  } | null | undefined;
};

/** A member as listed, and `GET /v1/auth/me`. `email` is null for a user who has none (the first-start owner). */
export type Member = {
  id: string;
  created_at: string;
  email: string | null;
  display_name: string;
  role: Role;
  auth_method: "api_key" | "password";
};

export type MemberList = {
  members: Member[];
};

/** `POST /v1/org/invite` */
export type InviteBody = {
  role?: Role | undefined;
  email: string;
};

/** The invitation: `invite_token` is shown in this answer only (a self-hosted server sends no mail). */
export type InviteCreated = {
  expires_at: string;
  email: string;
  role: Role;
  message: string;
  invite_token: string;
};

/** `POST /v1/auth/accept-invite` (public) */
export type AcceptInviteBody = {
  display_name?: string | undefined;
  password: string;
  invite_token: string;
};

/**
 * `POST /v1/auth/token`: any mismatch is the same 401. The password's length is not checked here, so a short
 * one is refused like a wrong one.
 */
export type SignInBody = {
  email: string;
  password: string;
};

/** `PATCH /v1/auth/me`: the caller's own display name and email. */
export type UpdateMeBody = {
  email?: string | undefined;
  display_name?: string | undefined;
};

/**
 * `POST /v1/auth/change-password`: `current_password` is required once a password is set; a user who has none
 * yet (e.g. the first-start owner, signed in by API key) sets one with `new_password` alone.
 */
export type ChangePasswordBody = {
  current_password?: string | undefined;
  new_password: string;
};

/** `POST /v1/secrets/{secret_id}/share`: `secret_id` is a version's `id`; that version is what the share serves. */
export type CreateShareBody = {
  max_access_count?: number | undefined;
  ip_allowlist?: string[] | undefined;
  email?: string | undefined;
  recipient_id?: string | undefined;
  passphrase?: string | undefined;
  expires_at: string;
  recipient_type: ShareRecipientType;
};

/**
 * A new share. `share_url` is the dashboard's page for it; in client-custody vaults its fragment carries the
 * link key, which the server does not keep: this answer is the only place it appears.
 */
export type ShareCreated = {
  max_access_count?: number | undefined;
  recipient_email?: string | undefined;
  id: string;
  expires_at: string;
  recipient_type: ShareRecipientType;
  share_url: string;
};

/** An opened share: the value, and how many opens it has had (this one included) of how many (null: no limit). */
export type SharedSecret = {
  type: string;
  id: string;
  value: string;
  path: string;
  max_access_count: number | null;
  access_count: number;
};

export type ShareSummary = {
  recipient_email?: string | undefined;
  id: string;
  expires_at: string;
  created_at: string;
  max_access_count: number | null;
  recipient_type: ShareRecipientType;
  access_count: number;
  secret_path: string;
  is_expired: boolean;
  is_accepted: boolean;
};

/** `GET /v1/shares/outbound` (shares the caller made) and `GET /v1/shares/inbound` (shares made for the caller). */
export type ShareList = {
  shares: ShareSummary[];
};

/**
 * Who a share is for: anyone holding its link (optionally with a passphrase), a member (`user`) or an agent by
 * id, an email address (recorded; the creator hands the link on), or the human who registered the calling
 * agent (`creator`, agents only).
 */
export type ShareRecipientType = "agent" | "user" | "anyone_with_link" | "external_email" | "creator";
