/** Health (public). Answers come from the server's background monitor. */
import type { FromSchema } from "json-schema-to-ts";

export const healthResponse = {
  type: "object",
  required: ["status", "version"],
  additionalProperties: false,
  properties: { status: { type: "string", enum: ["healthy", "degraded"] }, version: { type: "string" } },
} as const;
export type Health = FromSchema<typeof healthResponse>;

/** Per-slot detail only for a user token; otherwise just the overall status. */
export const hsmHealthResponse = {
  type: "object",
  required: ["status"],
  additionalProperties: false,
  properties: {
    status: { type: "string", enum: ["ok", "degraded", "unavailable"] },
    providers: {
      type: "array",
      items: {
        type: "object",
        required: ["slot", "backend", "status", "last_latency_ms", "development", "corrupt_shares"],
        additionalProperties: false,
        properties: {
          slot: { type: "string" },
          backend: { type: "string" },
          status: { type: "string", enum: ["ok", "degraded", "unavailable"] },
          last_latency_ms: { type: "number" },
          development: { type: "boolean" },
          corrupt_shares: { type: "integer" },
        },
      },
    },
  },
} as const;
export type HsmHealth = FromSchema<typeof hsmHealthResponse>;
