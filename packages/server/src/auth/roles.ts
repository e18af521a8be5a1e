/** Checks of who the caller is, for routes that are about the organization rather than one vault. */
import { refused } from "../errors.js";
import { unscoped } from "../policies/decide.js";
import type { Principal } from "./principal.js";

/** Agent, API-key, member and audit management are for users; agents get 403. */
export function requireUser(principal: Principal, what: string): void {
  if (principal.type !== "user") throw refused(403, "forbidden", `agents may not ${what}`, { needed: "user" });
}

/** Owners and admins manage the organization (members, agents, the audit log). */
export function requireAdmin(principal: Principal, what: string): void {
  requireUser(principal, what);
  if (principal.role !== "owner" && principal.role !== "admin") {
    throw refused(403, "forbidden", `only an owner or admin may ${what}`, { needed: "owner or admin", role: principal.role });
  }
}

/**
 * What the vocabulary of scopes has no word for (managing members, minting an unscoped key) needs credentials
 * that scopes do not narrow: otherwise a key scoped to reading secrets could invite a new owner.
 */
export function requireUnscoped(principal: Principal, what: string): void {
  if (!unscoped(principal.scopes)) {
    throw refused(403, "scope_missing", `${what} needs credentials without scopes (or with the "*" scope)`, { scope: "*" });
  }
}
