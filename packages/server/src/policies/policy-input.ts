/**
 * Checks of what a caller sends to create or change a policy, before anything is stored. Pure: the decision
 * module (decide.ts) then evaluates only what passed here.
 */
import { patternProblem, POLICY_CONDITION_KEYS } from "@shardvault/api";
import { badRequest } from "../errors.js";
import { parseAddressRange, type PolicyConditions } from "./decide.js";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_ALLOWLIST = 100;

/** A pattern as stored: the shared check (`patternProblem`, also the dashboard's preview) refuses malformed ones. */
export function checkPattern(pattern: string): string {
  const problem = patternProblem(pattern);
  if (problem !== undefined) throw badRequest("invalid_pattern", problem);
  return pattern;
}

function checkTime(value: unknown, key: string): string {
  if (typeof value !== "string" || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw badRequest("invalid_condition", `conditions.${key} must be an RFC 3339 time`);
  }
  return new Date(value).toISOString();
}

/** An address allow-list (policy conditions, shares): at most MAX_ALLOWLIST addresses or CIDRs. */
export function checkAllowlist(value: unknown, field: string, code: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_ALLOWLIST || !value.every((entry) => typeof entry === "string")) {
    throw badRequest(code, `${field} must be an array of at most ${MAX_ALLOWLIST} addresses or CIDRs`);
  }
  const bad = value.find((entry: string) => parseAddressRange(entry) === undefined);
  if (bad !== undefined) throw badRequest(code, `${field}: ${JSON.stringify(bad).slice(0, 80)} is not an IP address or CIDR`);
  return value as string[];
}

/** The conditions as stored; an unknown key is refused, since a condition must never be silently ignored. */
export function checkConditions(conditions: Record<string, unknown> | null | undefined): PolicyConditions {
  const checked: PolicyConditions = {};
  for (const [key, value] of Object.entries(conditions ?? {})) {
    if (!(POLICY_CONDITION_KEYS as readonly string[]).includes(key)) {
      throw badRequest("unknown_condition", `conditions.${key} is not a condition this server evaluates (known: ${POLICY_CONDITION_KEYS.join(", ")})`);
    }
    if (key === "ip_allowlist") {
      checked.ip_allowlist = checkAllowlist(value, "conditions.ip_allowlist", "invalid_condition");
    } else {
      checked[key as "not_before" | "not_after"] = checkTime(value, key);
    }
  }
  if (checked.not_before && checked.not_after && Date.parse(checked.not_before) > Date.parse(checked.not_after)) {
    throw badRequest("invalid_condition", "conditions.not_before is after conditions.not_after");
  }
  return checked;
}

/**
 * 1claw's SDK may send attribute conditions, consensus triggers and transaction conditions. This server evaluates
 * none of them, so one that says anything is refused rather than stored and ignored.
 */
export function refuseUnsupported(body: { attribute_conditions?: unknown; consensus_trigger?: unknown; tx_conditions?: unknown }): void {
  for (const key of ["attribute_conditions", "consensus_trigger", "tx_conditions"] as const) {
    const value = body[key];
    if (value !== undefined && value !== null && Object.keys(value as object).length > 0) {
      throw badRequest("unsupported_condition", `${key} is not supported by this server: the policy would not be enforced as written`);
    }
  }
}

export function parseExpiry(value: string | null | undefined): Date | null {
  if (value === undefined || value === null) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badRequest("validation_error", "expires_at must be an RFC 3339 time");
  return date;
}
