import { badRequest } from "./errors.js";

/** Times go out as RFC 3339 strings; absent ones as null. */
export const isoTime = (date: Date | null): string | null => (date ? new Date(date).toISOString() : null);

/**
 * A request's `expires_at` (secrets, agents, API keys): an RFC 3339 time in the future. A past one is refused:
 * it would create something born expired, which is never what the caller meant.
 */
export function futureExpiry(value: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badRequest("validation_error", "expires_at must be an RFC 3339 time");
  if (date.getTime() <= Date.now()) throw badRequest("expires_at_in_past", `expires_at must be in the future (got ${value})`);
  return date;
}
