/**
 * @shardvault/sdk — the TypeScript client for Shardvault. Zero runtime dependencies: `fetch` only, so it
 * runs on Node 20 and in browsers.
 */
export { createClient, ShardvaultClient } from "./client.js";
export { DEFAULT_BASE_URL } from "./transport.js";
export type { ClientSideCmekRotation, RotatedSecret } from "./cmek-rotation.js";
export { CmekError, cmekDecrypt, cmekDecryptBytes, cmekEncrypt, cmekFingerprint, generateCmekKey, type CmekErrorCode } from "./cmek.js";
export { errorType } from "./errors.js";
export { encodeSecretPath, secretPathProblem } from "./paths.js";
export type { ListPage, SetSecretOptions } from "./resources/secrets.js";
export type { AuditFilters, AuditWindow } from "./resources/audit.js";
export type { VaultResource } from "./resources/vault.js";
export type { MpcResource } from "./resources/mpc.js";
export type { SecretsResource } from "./resources/secrets.js";
export { parseShareLink, type AccessOptions, type SharingResource } from "./resources/sharing.js";
export type { AgentsResource } from "./resources/agents.js";
export type { AccessResource, GrantOptions } from "./resources/access.js";
export type { OrgResource } from "./resources/org.js";
export type { ApiKeysResource } from "./resources/api-keys.js";
export type { AuditResource } from "./resources/audit.js";
export type { AuthResource } from "./resources/auth.js";
export type { HealthResource } from "./resources/health.js";
export * from "./types.js";
export * from "./api-types.js";
