/**
 * @shardvault/api — the API contract, one source of truth for the server and its clients.
 *
 * The server validates requests with these schemas and builds its OpenAPI document (`/v1/openapi.json`)
 * from them; the SDK takes its types from the same schemas (`import type`, so it stays dependency-free).
 */
export * from "./constants.js";
export * from "./common.js";
export * from "./auth.js";
export * from "./agents.js";
export * from "./members.js";
export * from "./policies.js";
export * from "./path-pattern.js";
export * from "./audit.js";
export * from "./vaults.js";
export * from "./secrets.js";
export * from "./cmek.js";
export * from "./shares.js";
export * from "./mpc-lifecycle.js";
export * from "./health.js";
