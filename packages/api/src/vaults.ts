/** Vaults and MPC. */
import type { FromSchema } from "json-schema-to-ts";
import { CUSTODY_MODE_NAMES, MPC_CUSTODY_VALUES } from "./constants.js";
import type { Known } from "./common.js";

// ---- requests -------------------------------------------------------------------------------------------

/** Both body shapes clients send: the seed's `custody_mode` and 1claw's typed SDK's `mpc_custody`. */
const mpcFields = {
  custody_mode: { type: "string", enum: CUSTODY_MODE_NAMES },
  mpc_custody: { type: "string", enum: MPC_CUSTODY_VALUES },
  providers: { type: "array", items: { type: "string", maxLength: 64 }, maxItems: 16 },
} as const;

/** `POST /v1/vaults`; with `custody_mode` or `mpc_custody`, MPC is enabled at creation. */
export const createVaultBody = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200 },
    description: { type: "string", maxLength: 2000 },
    ...mpcFields,
  },
} as const;
export type CreateVaultBody = Known<FromSchema<typeof createVaultBody>>;

/** `POST /v1/vaults/{vault_id}/mpc`: `custody_mode` (or `mpc_custody`) is required by the server. */
export const enableMpcBody = { type: "object", properties: mpcFields } as const;
export type EnableMpcBody = Known<FromSchema<typeof enableMpcBody>>;

export const vaultParams = { type: "object", required: ["vault_id"], properties: { vault_id: { type: "string" } } } as const;

// ---- responses ------------------------------------------------------------------------------------------

const vaultProperties = {
  id: { type: "string" },
  name: { type: "string" },
  description: { type: "string" },
  created_by: { type: "string" },
  created_by_type: { type: "string", enum: ["user", "agent"] },
  created_at: { type: "string", format: "date-time" },
  cmek_enabled: { type: "boolean" },
  cmek_fingerprint: { type: "string" },
  /** Absent while MPC is off. */
  mpc_custody: { type: "string", enum: CUSTODY_MODE_NAMES },
  mpc_threshold: { type: "integer" },
  /** Share holders in share order, e.g. `["gcp","client"]`. */
  mpc_providers: { type: "array", items: { type: "string" } },
} as const;
const vaultRequired = ["id", "name", "description", "created_by", "created_by_type", "created_at", "cmek_enabled"] as const;

export const vaultSchema = { type: "object", required: vaultRequired, additionalProperties: false, properties: vaultProperties } as const;
export type Vault = FromSchema<typeof vaultSchema>;

/**
 * Enabling MPC answers the vault; when existing versions of a client-custody vault were re-protected, their
 * new client shares come with it, shown this once.
 */
export const vaultMpcResponse = {
  type: "object",
  required: vaultRequired,
  additionalProperties: false,
  properties: {
    ...vaultProperties,
    client_shares: {
      type: "array",
      items: {
        type: "object",
        required: ["path", "version", "client_share"],
        additionalProperties: false,
        properties: { path: { type: "string" }, version: { type: "integer" }, client_share: { type: "string" } },
      },
    },
  },
} as const;
export type VaultMpcEnabled = FromSchema<typeof vaultMpcResponse>;

export const vaultListResponse = {
  type: "object",
  required: ["vaults"],
  additionalProperties: false,
  properties: { vaults: { type: "array", items: vaultSchema } },
} as const;
export type VaultList = FromSchema<typeof vaultListResponse>;
