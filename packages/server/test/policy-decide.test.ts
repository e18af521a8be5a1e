/**
 * The access decision (src/policies/decide.ts, with the pattern matcher it shares from @shardvault/api), on its own: property tests with fast-check over small alphabets
 * of path segments, so that patterns and paths collide often.
 *
 * - glob semantics against an independent backtracking matcher: `*` one segment, `**` any number (zero too);
 * - adding a deny never widens access; adding an allow never narrows it; order of policies does not matter;
 * - a `**` allow of every permission with no deny grants every path;
 * - the highest priority decides; at equal priority deny wins;
 * - expired policies and policies whose conditions fail (not_before, not_after, ip_allowlist) change nothing;
 * - owners, admins and the vault's creator manage it whatever the policies; members and agents without a policy
 *   get nothing; an agent's non-empty vault_ids bounds what policies grant;
 * - a vault is visible exactly when the subject manages it or holds an unexpired allow policy (its conditions
 *   may fail: the vault shows, the request is refused);
 * - scopes: none or `*` narrow nothing, otherwise the needed one must be held.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { matchesPattern, POLICY_PERMISSIONS, type PolicyPermission } from "@shardvault/api";
import {
  conditionsHold,
  decideByPolicies,
  parseAddressRange,
  scopeAllows,
  standingOn,
  type PolicyRule,
  type RequestContext,
  type Subject,
  type VaultFacts,
} from "../src/policies/decide.js";

const NOW = Date.parse("2030-06-01T12:00:00Z");
const ctx: RequestContext = { now: NOW, ip: "10.1.2.3" };
const VAULT: VaultFacts = { id: "11111111-1111-4111-8111-111111111111", createdBy: "22222222-2222-4222-8222-222222222222", createdByType: "user" };
const MEMBER: Subject = { kind: "user", id: "33333333-3333-4333-8333-333333333333", role: "member" };
const AGENT: Subject = { kind: "agent", id: "44444444-4444-4444-8444-444444444444", vaultIds: [] };

/** The reference matcher: plain backtracking, written for clarity rather than speed. */
function naiveMatch(p: readonly string[], s: readonly string[]): boolean {
  if (p.length === 0) return s.length === 0;
  const [head, ...rest] = p;
  if (head === "**") {
    for (let k = 0; k <= s.length; k++) if (naiveMatch(rest, s.slice(k))) return true;
    return false;
  }
  if (s.length === 0) return false;
  return (head === "*" || head === s[0]) && naiveMatch(rest, s.slice(1));
}

const segment = fc.constantFrom("a", "b", "c");
const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join("/"));
const pattern = fc.array(fc.constantFrom("a", "b", "c", "*", "**"), { minLength: 1, maxLength: 5 }).map((s) => s.join("/"));
const permission = fc.constantFrom(...POLICY_PERMISSIONS);
const permissions = fc.uniqueArray(permission, { minLength: 1, maxLength: 4 });

let nextId = 0;
const rule = (fields: Partial<PolicyRule> & Pick<PolicyRule, "pattern" | "effect">): PolicyRule => ({
  id: `p${nextId++}`,
  permissions: [...POLICY_PERMISSIONS],
  priority: 0,
  expiresAt: null,
  conditions: {},
  ...fields,
});

/** In-effect policies (no expiry, no conditions) of either effect. */
const policy = fc.record({ pattern, effect: fc.constantFrom("allow" as const, "deny" as const), permissions, priority: fc.integer({ min: 0, max: 3 }) }).map(rule);
const policies = fc.array(policy, { maxLength: 6 });
const allowed = (rules: readonly PolicyRule[], perm: PolicyPermission, p: string) => decideByPolicies(rules, perm, p, ctx).allowed;

describe("patterns", () => {
  test("property: the matcher agrees with a backtracking reference", () => {
    fc.assert(
      fc.property(pattern, path, (pat, p) => {
        assert.equal(matchesPattern(pat, p), naiveMatch(pat.split("/"), p.split("/")), `${pat} ~ ${p}`);
      }),
      { numRuns: 2000 },
    );
  });

  test("property: `**` matches every path; `*` exactly the one-segment paths; a literal pattern only itself", () => {
    fc.assert(
      fc.property(path, path, (p, q) => {
        assert.ok(matchesPattern("**", p));
        assert.equal(matchesPattern("*", p), !p.includes("/"));
        assert.equal(matchesPattern(p, q), p === q);
      }),
    );
  });

  test("examples: `**` spans zero or more segments anywhere; `*` never spans a slash", () => {
    const cases: Array<[string, string, boolean]> = [
      ["prod/**", "prod", true],
      ["prod/**", "prod/db/password", true],
      ["prod/**", "production/db", false],
      ["**/password", "password", true],
      ["**/password", "a/b/c/password", true],
      ["a/**/b", "a/b", true],
      ["a/**/b", "a/x/y/b", true],
      ["a/**/b", "a/x/y/c", false],
      ["prod/*", "prod/db", true],
      ["prod/*", "prod/db/password", false],
      ["prod/*", "prod", false],
      ["*/db", "staging/db", true],
      ["**/**", "x", true],
    ];
    for (const [pat, p, expected] of cases) assert.equal(matchesPattern(pat, p), expected, `${pat} ~ ${p}`);
  });

  test("a pattern of many `**` against a long path stays fast (no backtracking blow-up)", () => {
    const pat = Array.from({ length: 200 }, () => "**").join("/") + "/z";
    const p = Array.from({ length: 200 }, () => "a").join("/");
    assert.equal(matchesPattern(pat, p), false);
  });
});

describe("decisions", () => {
  test("property: adding a deny never widens access", () => {
    fc.assert(
      fc.property(policies, policy, permission, path, (rules, extra, perm, p) => {
        const deny = { ...extra, effect: "deny" as const };
        if (allowed([...rules, deny], perm, p)) assert.ok(allowed(rules, perm, p));
      }),
      { numRuns: 1000 },
    );
  });

  test("property: adding an allow never narrows access", () => {
    fc.assert(
      fc.property(policies, policy, permission, path, (rules, extra, perm, p) => {
        const allow = { ...extra, effect: "allow" as const };
        if (allowed(rules, perm, p)) assert.ok(allowed([...rules, allow], perm, p));
      }),
      { numRuns: 1000 },
    );
  });

  test("property: the order of the policies does not matter", () => {
    fc.assert(
      fc.property(policies, permission, path, (rules, perm, p) => {
        assert.equal(allowed(rules, perm, p), allowed([...rules].reverse(), perm, p));
      }),
    );
  });

  test("property: a `**` allow of every permission with no deny grants every path", () => {
    const allows = fc.array(policy.map((r) => ({ ...r, effect: "allow" as const })), { maxLength: 5 });
    fc.assert(
      fc.property(allows, permission, path, (rules, perm, p) => {
        assert.ok(allowed([...rules, rule({ pattern: "**", effect: "allow" })], perm, p));
      }),
    );
  });

  test("property: no matching policy is a refusal; a policy only covers its own permissions", () => {
    fc.assert(
      fc.property(permissions, permission, path, (perms, perm, p) => {
        const only = rule({ pattern: "**", effect: "allow", permissions: perms });
        assert.equal(allowed([only], perm, p), perms.includes(perm));
        assert.deepEqual(decideByPolicies([], perm, p, ctx), { allowed: false, reason: "no_matching_policy" });
      }),
    );
  });

  test("property: the highest priority decides, and at equal priority deny beats allow", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), path, permission, (allowAt, denyAt, p, perm) => {
        const rules = [rule({ pattern: "**", effect: "allow", priority: allowAt }), rule({ pattern: p, effect: "deny", priority: denyAt })];
        assert.equal(allowed(rules, perm, p), allowAt > denyAt);
      }),
    );
  });

  test("property: an expired policy changes nothing; one expiring later takes part", () => {
    fc.assert(
      fc.property(policies, policy, fc.integer({ min: 0, max: 10_000_000 }), permission, path, (rules, extra, age, perm, p) => {
        const expired = { ...extra, expiresAt: NOW - age };
        assert.equal(allowed([...rules, expired], perm, p), allowed(rules, perm, p));
        const live = { ...extra, expiresAt: NOW + 1 + age };
        assert.equal(allowed([...rules, live], perm, p), allowed([...rules, extra], perm, p));
      }),
    );
  });

  test("property: a policy whose condition fails changes nothing; one whose conditions hold acts like no conditions", () => {
    const failing = fc.constantFrom(
      { not_before: new Date(NOW + 60_000).toISOString() },
      { not_after: new Date(NOW - 60_000).toISOString() },
      { ip_allowlist: ["192.168.0.0/16", "2001:db8::/32"] },
      { ip_allowlist: [] },
    );
    const holding = fc.constantFrom(
      { not_before: new Date(NOW - 60_000).toISOString(), not_after: new Date(NOW + 60_000).toISOString() },
      { ip_allowlist: ["10.0.0.0/8"] },
      { ip_allowlist: ["10.1.2.3"] },
      { ip_allowlist: ["::ffff:10.1.2.3/128"] },
      {},
    );
    fc.assert(
      fc.property(policies, policy, failing, holding, permission, path, (rules, extra, bad, good, perm, p) => {
        assert.equal(allowed([...rules, { ...extra, conditions: bad }], perm, p), allowed(rules, perm, p));
        assert.equal(allowed([...rules, { ...extra, conditions: good }], perm, p), allowed([...rules, extra], perm, p));
      }),
    );
  });

  test("ip_allowlist: addresses and CIDRs of both families; a dual-stack IPv4 client matches IPv4 entries; no address never matches", () => {
    const at = (ip: string | undefined) => ({ now: NOW, ...(ip === undefined ? {} : { ip }) });
    assert.ok(conditionsHold({ ip_allowlist: ["203.0.113.0/24"] }, at("203.0.113.77")));
    assert.ok(conditionsHold({ ip_allowlist: ["203.0.113.0/24"] }, at("::ffff:203.0.113.77")));
    assert.ok(!conditionsHold({ ip_allowlist: ["203.0.113.0/24"] }, at("203.0.114.1")));
    assert.ok(conditionsHold({ ip_allowlist: ["2001:db8::/32"] }, at("2001:db8:1::5")));
    assert.ok(!conditionsHold({ ip_allowlist: ["2001:db8::/32"] }, at("2001:db9::5")));
    assert.ok(conditionsHold({ ip_allowlist: ["127.0.0.1"] }, at("127.0.0.1")));
    // An IPv4-mapped range counts its prefix over 128 bits.
    assert.ok(conditionsHold({ ip_allowlist: ["::ffff:10.0.0.0/104"] }, at("10.9.9.9")));
    assert.ok(!conditionsHold({ ip_allowlist: ["::ffff:10.0.0.0/104"] }, at("11.9.9.9")));
    assert.ok(!conditionsHold({ ip_allowlist: ["127.0.0.1"] }, at(undefined)));
    assert.ok(!conditionsHold({ ip_allowlist: ["127.0.0.1"] }, at("not-an-ip")));
    for (const bad of ["", "10.0.0.0/33", "::/129", "10.0.0.1/8/8", "host.example", "10.0.0.0/-1", "10.0.0.0/ 8", "::ffff:10.0.0.0/95"]) {
      assert.equal(parseAddressRange(bad), undefined, bad);
    }
  });

  test("not_before and not_after bound the window inclusively", () => {
    const at = new Date(NOW).toISOString();
    assert.ok(conditionsHold({ not_before: at, not_after: at }, ctx));
    assert.ok(!conditionsHold({ not_before: new Date(NOW + 1).toISOString() }, ctx));
    assert.ok(!conditionsHold({ not_after: new Date(NOW - 1).toISOString() }, ctx));
  });
});

describe("standing on a vault", () => {
  const subjects = fc.constantFrom<Subject>(MEMBER, AGENT, { ...AGENT, vaultIds: [VAULT.id] });

  test("property: owners, admins and the vault's creator manage it and may do everything, whatever the policies", () => {
    const managers = fc.constantFrom<Subject>(
      { kind: "user", id: MEMBER.id, role: "owner" },
      { kind: "user", id: MEMBER.id, role: "admin" },
      { kind: "user", id: VAULT.createdBy, role: "member" },
      { kind: "agent", id: AGENT.id, vaultIds: ["55555555-5555-4555-8555-555555555555"] },
    );
    const agentVault = { ...VAULT, createdBy: AGENT.id, createdByType: "agent" as const };
    fc.assert(
      fc.property(managers, policies, permission, path, (subject, rules, perm, p) => {
        const vault = subject.kind === "agent" ? agentVault : VAULT;
        const standing = standingOn(subject, vault, rules, ctx);
        assert.ok(standing.manager && standing.visible);
        assert.deepEqual(standing.decide(perm, p), { allowed: true, via: "manager" });
      }),
    );
  });

  test("the creator's id under the other principal type is not the creator", () => {
    const sameIdAgent: Subject = { kind: "agent", id: VAULT.createdBy };
    const standing = standingOn(sameIdAgent, VAULT, [], ctx);
    assert.ok(!standing.manager && !standing.visible);
  });

  test("property: members and agents without policies get nothing and do not see the vault", () => {
    fc.assert(
      fc.property(subjects, permission, path, (subject, perm, p) => {
        const standing = standingOn(subject, VAULT, [], ctx);
        assert.ok(!standing.manager && !standing.visible);
        assert.equal(standing.decide(perm, p).allowed, false);
      }),
    );
  });

  test("property: for members and agents, the decision is the policies' decision, and visibility is an unexpired allow", () => {
    fc.assert(
      fc.property(subjects, policies, permission, path, (subject, rules, perm, p) => {
        const standing = standingOn(subject, VAULT, rules, ctx);
        assert.equal(standing.decide(perm, p).allowed, allowed(rules, perm, p));
        assert.equal(standing.visible, rules.some((r) => r.effect === "allow"));
      }),
    );
  });

  test("property: an agent's non-empty vault_ids bounds what policies grant", () => {
    fc.assert(
      fc.property(policies, permission, path, (rules, perm, p) => {
        const bounded: Subject = { ...AGENT, vaultIds: ["66666666-6666-4666-8666-666666666666"] };
        const everything = [...rules, rule({ pattern: "**", effect: "allow", priority: 10 })];
        const standing = standingOn(bounded, VAULT, everything, ctx);
        assert.ok(!standing.visible);
        assert.deepEqual(standing.decide(perm, p), { allowed: false, reason: "outside_vault_ids" });
      }),
    );
  });

  test("a deny names the policy that decided; an expired allow hides the vault, one whose condition fails does not", () => {
    const deny = rule({ pattern: "prod/**", effect: "deny", priority: 1 });
    const allow = rule({ pattern: "**", effect: "allow" });
    const standing = standingOn(MEMBER, VAULT, [allow, deny], ctx);
    assert.deepEqual(standing.decide("read", "prod/db"), { allowed: false, reason: "denied_by_policy", policyId: deny.id });
    assert.deepEqual(standing.decide("read", "dev/db"), { allowed: true, via: "policy", policyId: allow.id });
    assert.ok(!standingOn(MEMBER, VAULT, [{ ...allow, expiresAt: NOW }], ctx).visible);
    assert.ok(!standingOn(MEMBER, VAULT, [deny], ctx).visible, "a deny alone shows nothing");
    const elsewhere = standingOn(MEMBER, VAULT, [{ ...allow, conditions: { ip_allowlist: ["192.0.2.0/24"] } }], ctx);
    assert.ok(elsewhere.visible);
    assert.deepEqual(elsewhere.decide("read", "dev/db"), { allowed: false, reason: "no_matching_policy" });
  });
});

describe("scopes", () => {
  const scope = fc.constantFrom("vaults:read", "vaults:write", "secrets:read", "secrets:write", "secrets:delete", "policies:read", "policies:write");

  test("property: none or `*` narrow nothing; otherwise the needed scope must be held, and holding more never narrows", () => {
    fc.assert(
      fc.property(fc.uniqueArray(scope, { maxLength: 4 }), scope, scope, (held, needed, more) => {
        assert.ok(scopeAllows([], needed));
        assert.ok(scopeAllows([...held, "*"], needed));
        if (held.length === 0) return;
        assert.equal(scopeAllows(held, needed), held.includes(needed));
        if (scopeAllows(held, needed)) assert.ok(scopeAllows([...held, more], needed));
      }),
    );
  });
});
