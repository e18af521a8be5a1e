/**
 * The access decision, as one pure function of loaded rows: who the caller is, the vault, the caller's policies
 * on it, and the request's time and address. No I/O, so it can be property-tested on its own and fed from any
 * source of those rows (today one SQL statement per request; later perhaps a cache).
 *
 * The rules (api-contract.md, "Policies" and "Scopes"):
 * - The organization's owners and admins, and the vault's creator (user or agent), manage the vault: they may do
 *   everything in it. Policies neither widen nor narrow that.
 * - Anyone else (members, agents) may do only what a policy allows. Among the policies that match the path and
 *   permission, are unexpired and whose conditions hold, the highest `priority` decides; at equal priority `deny`
 *   beats `allow`; none matching is a refusal.
 * - An agent's non-empty `vault_ids` bounds what policies can grant: outside it they grant nothing.
 * - Scopes narrow every principal; they are checked per route (`scopeAllows`), before any of the above.
 */
import { BlockList, isIP } from "node:net";
import { matchesPattern, type PolicyEffect, type PolicyPermission, type Role } from "@shardvault/api";

export interface Subject {
  kind: "user" | "agent";
  id: string;
  /** Users: their current role in the organization. */
  role?: Role;
  /** Agents: the vaults their policies may reach; empty or absent: no bound. */
  vaultIds?: readonly string[];
}

export interface VaultFacts {
  id: string;
  createdBy: string;
  createdByType: "user" | "agent";
}

export interface PolicyConditions {
  ip_allowlist?: string[];
  not_before?: string;
  not_after?: string;
}

export interface PolicyRule {
  id: string;
  pattern: string;
  permissions: readonly PolicyPermission[];
  effect: PolicyEffect;
  priority: number;
  /** Epoch milliseconds; null: never expires. */
  expiresAt: number | null;
  conditions: PolicyConditions;
}

export interface RequestContext {
  /** Epoch milliseconds. */
  now: number;
  /** The client's address, as the server saw it. */
  ip?: string;
}

export type Decision =
  | { allowed: true; via: "manager" }
  | { allowed: true; via: "policy"; policyId: string }
  | { allowed: false; reason: "no_matching_policy" | "outside_vault_ids" }
  | { allowed: false; reason: "denied_by_policy"; policyId: string };

export interface VaultStanding {
  /** May do everything in the vault, including managing it and its policies. */
  manager: boolean;
  /**
   * Has any access at all: a manager, or at least one unexpired allow policy (whose conditions may not hold right
   * now: the grant exists, this request is refused). A vault the caller cannot see is answered like a missing
   * one (404); a visible vault's refused path or permission is a 403.
   */
  visible: boolean;
  decide(permission: PolicyPermission, path: string): Decision;
}

// ---- conditions -----------------------------------------------------------------------------------------

/** `::ffff:10.0.0.1` (how a dual-stack socket reports IPv4 clients) is `10.0.0.1`. */
function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** One allow-list entry, `address` or `address/prefix`, as BlockList arguments; undefined when malformed. */
export function parseAddressRange(entry: string): { address: string; family: "ipv4" | "ipv6"; prefix: number } | undefined {
  const [rawAddress, rawPrefix, extra] = entry.split("/");
  if (rawAddress === undefined || extra !== undefined) return undefined;
  const address = normalizeAddress(rawAddress);
  const version = isIP(address);
  if (version === 0) return undefined;
  if (rawPrefix !== undefined && !/^\d{1,3}$/.test(rawPrefix)) return undefined;
  // An IPv4-mapped IPv6 range counts its prefix over 128 bits, of which the IPv4 address is the last 32.
  const offset = address === rawAddress ? 0 : 96;
  const bits = version === 4 ? 32 : 128;
  const prefix = rawPrefix === undefined ? bits : Number(rawPrefix) - offset;
  if (prefix < 0 || prefix > bits) return undefined;
  return { address, family: version === 4 ? "ipv4" : "ipv6", prefix };
}

/** Whether `ip` is within one of the allow-list's entries (no address: no). */
export function addressAllowed(allowlist: readonly string[], ip: string | undefined): boolean {
  if (ip === undefined) return false;
  const address = normalizeAddress(ip);
  const version = isIP(address);
  if (version === 0) return false;
  const list = new BlockList();
  for (const entry of allowlist) {
    const range = parseAddressRange(entry);
    // Entries were checked when the policy was stored; one that does not parse matches nothing.
    if (range) list.addSubnet(range.address, range.prefix, range.family);
  }
  return list.check(address, version === 4 ? "ipv4" : "ipv6");
}

/** Whether all of a policy's conditions hold for this request (no conditions: they hold). */
export function conditionsHold(conditions: PolicyConditions, ctx: RequestContext): boolean {
  if (conditions.not_before !== undefined && !(ctx.now >= Date.parse(conditions.not_before))) return false;
  if (conditions.not_after !== undefined && !(ctx.now <= Date.parse(conditions.not_after))) return false;
  if (conditions.ip_allowlist !== undefined && !addressAllowed(conditions.ip_allowlist, ctx.ip)) return false;
  return true;
}

const unexpired = (policy: PolicyRule, ctx: RequestContext) => policy.expiresAt === null || ctx.now < policy.expiresAt;

/** A policy takes part in decisions while it is unexpired and its conditions hold. */
export function inEffect(policy: PolicyRule, ctx: RequestContext): boolean {
  return unexpired(policy, ctx) && conditionsHold(policy.conditions, ctx);
}

// ---- the decision ---------------------------------------------------------------------------------------

export function isManager(subject: Subject, vault: VaultFacts): boolean {
  if (subject.kind === "user" && (subject.role === "owner" || subject.role === "admin")) return true;
  return vault.createdBy === subject.id && vault.createdByType === subject.kind;
}

/** Whether policies may grant this subject anything on this vault (an agent's non-empty `vault_ids` bounds them). */
export function withinBound(subject: Subject, vaultId: string): boolean {
  return subject.kind !== "agent" || !subject.vaultIds?.length || subject.vaultIds.includes(vaultId);
}

/** Decides one permission on one path from the policies alone (for a subject that does not manage the vault). */
export function decideByPolicies(policies: readonly PolicyRule[], permission: PolicyPermission, path: string, ctx: RequestContext): Decision {
  let winner: PolicyRule | undefined;
  for (const policy of policies) {
    if (!policy.permissions.includes(permission) || !matchesPattern(policy.pattern, path) || !inEffect(policy, ctx)) continue;
    const better = !winner || policy.priority > winner.priority || (policy.priority === winner.priority && policy.effect === "deny" && winner.effect === "allow");
    if (better) winner = policy;
  }
  if (!winner) return { allowed: false, reason: "no_matching_policy" };
  return winner.effect === "allow" ? { allowed: true, via: "policy", policyId: winner.id } : { allowed: false, reason: "denied_by_policy", policyId: winner.id };
}

/** The subject's standing on a vault, given its policies there (those naming the subject; others are ignored). */
export function standingOn(subject: Subject, vault: VaultFacts, policies: readonly PolicyRule[], ctx: RequestContext): VaultStanding {
  if (isManager(subject, vault)) return { manager: true, visible: true, decide: () => ({ allowed: true, via: "manager" }) };
  if (!withinBound(subject, vault.id)) return { manager: false, visible: false, decide: () => ({ allowed: false, reason: "outside_vault_ids" }) };
  return {
    manager: false,
    visible: policies.some((p) => p.effect === "allow" && unexpired(p, ctx)),
    decide: (permission, path) => decideByPolicies(policies, permission, path, ctx),
  };
}

// ---- scopes ---------------------------------------------------------------------------------------------

/** Scopes only narrow: none (or `*`) narrow nothing; otherwise the needed scope must be among them. */
export function scopeAllows(scopes: readonly string[], needed: string): boolean {
  return scopes.length === 0 || scopes.includes("*") || scopes.includes(needed);
}

/** Whether a principal's scopes narrow nothing (what managing members and minting unscoped keys needs). */
export function unscoped(scopes: readonly string[]): boolean {
  return scopes.length === 0 || scopes.includes("*");
}
