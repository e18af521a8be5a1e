/**
 * The MPC key lifecycle (Shardvault's own; no public client sends these): KEK rotation, provider replacement
 * and proactive share refresh run as jobs; a client-custody secret's share is refreshed per secret.
 */
import type { FromSchema } from "json-schema-to-ts";
import { JOB_STATUSES, MPC_JOB_KINDS } from "./constants.js";
import type { Known } from "./common.js";

const slotName = { type: "string", minLength: 1, maxLength: 64 } as const;

/** `POST /v1/vaults/{vault_id}/mpc/replace-provider`: move the vault's share from slot `from` to slot `to`. */
export const replaceProviderBody = {
  type: "object",
  required: ["from", "to"],
  properties: { from: slotName, to: slotName },
} as const;
export type ReplaceProviderBody = Known<FromSchema<typeof replaceProviderBody>>;

export const mpcJobParams = {
  type: "object",
  required: ["vault_id", "job_id"],
  properties: { vault_id: { type: "string" }, job_id: { type: "string" } },
} as const;

/** The 202 answer of a lifecycle call, with `Location: /v1/vaults/{vault_id}/mpc/jobs/{job_id}`. */
export const mpcJobStartedResponse = {
  type: "object",
  required: ["job_id", "kind", "status"],
  additionalProperties: false,
  properties: {
    job_id: { type: "string" },
    kind: { type: "string", enum: MPC_JOB_KINDS },
    status: { type: "string", enum: JOB_STATUSES },
  },
} as const;
export type MpcJobStarted = FromSchema<typeof mpcJobStartedResponse>;

/** `GET /v1/vaults/{vault_id}/mpc/jobs/{job_id}`: a lifecycle job's progress over the vault's live versions. */
export const mpcJobResponse = {
  type: "object",
  required: ["id", "kind", "status", "total", "processed"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    kind: { type: "string", enum: MPC_JOB_KINDS },
    status: { type: "string", enum: JOB_STATUSES },
    total: { type: "integer" },
    processed: { type: "integer" },
    error: { type: "string" },
  },
} as const;
export type MpcJob = FromSchema<typeof mpcJobResponse>;

/**
 * `POST /v1/vaults/{vault_id}/secret-refresh/{path}[?version=N]` with `X-Client-Share`: the version's DEK is
 * split afresh under the vault's current providers; the new client share is returned this once and the old
 * one is refused from then on.
 */
export const secretRefreshResponse = {
  type: "object",
  required: ["version", "client_share"],
  additionalProperties: false,
  properties: { version: { type: "integer" }, client_share: { type: "string" } },
} as const;
export type SecretRefreshed = FromSchema<typeof secretRefreshResponse>;
