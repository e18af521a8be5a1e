/**
 * CMEK (client-managed key): the client encrypts values with its own AES-256-GCM key before writing them;
 * the server knows only the key's fingerprint (SHA-256, lowercase hex), and both keys during a rotation.
 */
import type { FromSchema } from "json-schema-to-ts";
import type { Known } from "./common.js";

const fingerprint = { type: "string", pattern: "^[0-9a-f]{64}$" } as const;

/** `POST /v1/vaults/{vault_id}/cmek` */
export const enableCmekBody = { type: "object", required: ["fingerprint"], properties: { fingerprint } } as const;
export type EnableCmekBody = Known<FromSchema<typeof enableCmekBody>>;

/** `POST /v1/vaults/{vault_id}/cmek-rotate`: the keys travel in headers (standard base64 of 32 bytes), never in the body. */
export const cmekRotateBody = { type: "object", required: ["new_fingerprint"], properties: { new_fingerprint: fingerprint } } as const;
export type CmekRotateBody = Known<FromSchema<typeof cmekRotateBody>>;

export const cmekRotateHeaders = {
  type: "object",
  required: ["x-cmek-old-key", "x-cmek-new-key"],
  properties: { "x-cmek-old-key": { type: "string" }, "x-cmek-new-key": { type: "string" } },
} as const;

export const cmekJobParams = {
  type: "object",
  required: ["vault_id", "job_id"],
  properties: { vault_id: { type: "string" }, job_id: { type: "string" } },
} as const;

/** A key rotation job: re-encrypts every CMEK version in batches; resumable. */
export const cmekRotationJobResponse = {
  type: "object",
  required: ["id", "vault_id", "old_fingerprint", "new_fingerprint", "status", "total_secrets", "processed", "started_at", "completed_at", "created_at"],
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    vault_id: { type: "string" },
    old_fingerprint: { type: "string" },
    new_fingerprint: { type: "string" },
    status: { type: "string", enum: ["pending", "running", "completed", "failed"] },
    total_secrets: { type: "integer" },
    processed: { type: "integer" },
    error: { type: "string" },
    started_at: { type: ["string", "null"], format: "date-time" },
    completed_at: { type: ["string", "null"], format: "date-time" },
    created_at: { type: "string", format: "date-time" },
  },
} as const;
export type CmekRotationJob = FromSchema<typeof cmekRotationJobResponse>;
