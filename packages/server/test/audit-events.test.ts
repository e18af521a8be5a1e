/**
 * The audit log over real HTTP, on the embedded database (PGlite) and on PostgreSQL.
 *
 * - Completeness: each action is performed once and the events that request added are compared with what it
 *   should add, exactly (no event missing, none twice, none extra), queried right after the answer (so each
 *   was recorded before the answer was sent): secret.write, secret.read (latest, `?version=`, the
 *   secret-version route), secret.read_refused (missing, malformed, wrong and mismatched client share in a
 *   2of2_client_custody vault, an expired secret, max_access_count exhausted, a missing or deleted secret, and
 *   an agent reading outside its vaults), secret.delete, secret.version_disable, secret.rotate, vault.create,
 *   vault.delete, vault.mpc_enable (on a vault, and at creation), agent.create, agent.update, agent.delete,
 *   agent.rotate_key, api_key.create, api_key.revoke, access.denied (an agent refused management); requests
 *   that change or read nothing, and are refused nothing, add nothing.
 * - Each event's fields: id, action, actor_id / actor_type (user or agent), resource_type, resource_id,
 *   org_id, details (the refusal's code as `reason`), ip_address, created_at, and its chain link
 *   (integrity_hash, prev_event_id: audit-chain-storage.test.ts checks the chain itself).
 * - Events never contain values, API keys, agent keys, tokens or client shares.
 * - Filters (resource_id, actor_id, action, from, to) and pagination (limit/offset; `count` is the total,
 *   `events` the page; newest first); bad filters are 400 problems.
 * - The server's output holds no value, key, share or token.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, expiringSoon, secretValue, UUID, type Api, type ApiResponse } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { editShare, wrongShareBytes } from "./support/mpc-support.js";
import { agentToken, allAuditEvents, auditQuery, createAgent, grant, makeVault, patch, userToken, type AuditEvent } from "./support/auth-support.js";

type Expected = { action: string } & Partial<Omit<AuditEvent, "details">> & { details?: Record<string, unknown> };

for (const kind of DATABASE_KINDS) {
  describe(`audit-events on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let adminUserId: string;
    let orgId: string;
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);
    const value = (label: string) => keep(secretValue(label));
    let seen = new Set<string>();

    /** Runs `fn` and answers the audit events added meanwhile (read right after `fn`'s answer). */
    async function added<T>(fn: () => Promise<T>): Promise<{ result: T; events: AuditEvent[] }> {
      const result = await fn();
      const all = await allAuditEvents(admin);
      const events = all.filter((e) => !seen.has(e.id));
      seen = new Set(all.map((e) => e.id));
      return { result, events };
    }

    /** Runs `fn` and asserts it added exactly `expected` (as a multiset of actions, each with the given fields). */
    async function expectAudit<T>(label: string, fn: () => Promise<T>, expected: Expected[] | ((result: T) => Expected[])): Promise<T> {
      const { result, events } = await added(fn);
      const want = typeof expected === "function" ? expected(result) : expected;
      const context = `${label}: added ${JSON.stringify(events.map((e) => e.action))}, expected ${JSON.stringify(want.map((e) => e.action))}`;
      assert.deepEqual(events.map((e) => e.action).sort(), want.map((e) => e.action).sort(), context);
      const unmatched = [...events];
      for (const w of want) {
        const i = unmatched.findIndex((e) => e.action === w.action && fieldsMatch(e, w));
        assert.ok(i >= 0, `${label}: no ${w.action} event with ${JSON.stringify(w)} among ${JSON.stringify(unmatched)}`);
        unmatched.splice(i, 1);
      }
      for (const e of events) assertEventShape(e, label);
      return result;
    }

    function fieldsMatch(event: AuditEvent, want: Expected): boolean {
      for (const [field, expected] of Object.entries(want)) {
        if (field === "details") {
          for (const [k, v] of Object.entries(expected as Record<string, unknown>)) {
            if (JSON.stringify(event.details[k]) !== JSON.stringify(v)) return false;
          }
        } else if ((event as unknown as Record<string, unknown>)[field] !== expected) return false;
      }
      return true;
    }

    function assertEventShape(e: AuditEvent, label: string): void {
      assert.deepEqual(
        Object.keys(e).sort(),
        ["action", "actor_id", "actor_type", "created_at", "details", "id", "integrity_hash", "ip_address", "org_id", "prev_event_id", "resource_id", "resource_type"],
        label,
      );
      // Every event recorded now is chained (events from before the chain began are another suite's).
      assert.match(String(e.integrity_hash), /^[0-9a-f]{64}$/, label);
      assert.match(String(e.prev_event_id), UUID, label);
      assert.match(e.id, UUID, label);
      assert.match(e.actor_id, UUID, label);
      assert.match(e.actor_type, /^(user|agent)$/, label);
      assert.equal(e.org_id, orgId, label);
      assert.equal(typeof e.resource_id, "string", label);
      assert.ok(e.resource_id.length > 0, label);
      assert.equal(typeof e.details, "object", label);
      assert.match(String(e.ip_address), /127\.0\.0\.1/, `${label}: ip_address ${e.ip_address}`);
      assert.ok(!Number.isNaN(Date.parse(e.created_at)) && /Z$|[+-]\d\d:\d\d$/.test(e.created_at), `${label}: created_at ${e.created_at}`);
    }

    const user = (more: Expected): Expected => ({ actor_id: adminUserId, actor_type: "user", ...more });
    const refused = (res: ApiResponse, status: number, more: Expected): Expected => {
      assertProblem(res, status, String(more.details?.reason ?? res.body?.code));
      return { ...more, action: "secret.read_refused", resource_type: "secret" };
    };

    before(async () => {
      deployment = await deploy(kind);
      url = deployment.server.url;
      keep(deployment.server.adminKey);
      admin = api(url, deployment.server.adminKey);
      const probe = await makeVault(admin, "probe");
      adminUserId = probe.created_by;
      const first = (await allAuditEvents(admin)).find((e) => e.resource_id === probe.id)!;
      orgId = first.org_id;
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("vaults and secrets: each action recorded exactly once, before the answer, with its fields", async () => {
      const vault = await expectAudit("vault.create", () => makeVault(admin, "audited"), (v) => [
        user({ action: "vault.create", resource_type: "vault", resource_id: v.id, details: { name: "audited" } }),
      ]);
      const base = `/v1/vaults/${vault.id}`;
      const v1 = value("audit-1");
      const w1 = await expectAudit("secret.write", () => admin.put(`${base}/secrets/db/password`, { value: v1, type: "password" }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "secret.write", resource_type: "secret", resource_id: res.body.id, details: { vault_id: vault.id, path: "db/password", version: 1 } })];
      });
      const readEvent = (version: number): Expected => user({ action: "secret.read", resource_type: "secret", resource_id: w1.body.id, details: { vault_id: vault.id, path: "db/password", version } });
      for (const [label, path] of [["latest", `${base}/secrets/db/password`], ["?version=", `${base}/secrets/db/password?version=1`], ["secret-version route", `${base}/secret-version/db/password/1`]]) {
        await expectAudit(`secret.read (${label})`, () => admin.get(path!), (res) => {
          assert.equal(res.status, 200, res.text);
          assert.equal(res.body.value, v1);
          return [readEvent(1)];
        });
      }

      // Requests that read no value and change nothing add nothing (token exchanges and health included).
      await expectAudit("no-op requests", async () => {
        for (const path of ["/v1/vaults", base, `${base}/secrets`, `${base}/secret-versions/db/password`, "/v1/agents", "/v1/auth/api-keys", "/v1/audit/events", "/v1/health", "/v1/health/hsm"]) {
          assert.equal((await admin.get(path)).status, 200, path);
        }
        keep((await userToken(url, deployment.server.adminKey)).access_token);
      }, []);

      const rotated = await expectAudit("secret.rotate", () => admin.post(`${base}/secret-rotate/db/password`, { length: 24 }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "secret.rotate", resource_type: "secret", resource_id: res.body.id, details: { vault_id: vault.id, path: "db/password", version: 2 } })];
      });
      keep((await admin.get(`${base}/secrets/db/password`)).body.value);
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
      assert.equal(rotated.body.version, 2);

      await expectAudit("secret.version_disable", () => admin.post(`${base}/secret-version-disable/db/password/1`), (res) => {
        assert.equal(res.status, 204, res.text);
        // One rule for secret events: resource_id is the id of the version acted on.
        return [user({ action: "secret.version_disable", resource_type: "secret", resource_id: w1.body.id, details: { vault_id: vault.id, path: "db/password", version: 1 } })];
      });
      await expectAudit("read_refused (disabled version)", () => admin.get(`${base}/secrets/db/password?version=1`), (res) => [
        // A refused read may concern no version at all: it names the vault.
        refused(res, 410, user({ action: "secret.read_refused", resource_id: vault.id, details: { vault_id: vault.id, path: "db/password", version: 1, reason: "version_disabled" } })),
      ]);
      await expectAudit("secret.delete", () => admin.delete(`${base}/secrets/db/password`), (res) => {
        assert.equal(res.status, 204, res.text);
        // Every version of the path is deleted: the event names the newest, the `id` a read of the path showed.
        return [user({ action: "secret.delete", resource_type: "secret", resource_id: rotated.body.id, details: { vault_id: vault.id, path: "db/password" } })];
      });
      await expectAudit("read_refused (deleted)", () => admin.get(`${base}/secrets/db/password`), (res) => [
        refused(res, 410, user({ action: "secret.read_refused", details: { vault_id: vault.id, path: "db/password", reason: res.body.code } })),
      ]);
      await expectAudit("read_refused (no such secret)", () => admin.get(`${base}/secrets/no/such`), (res) => [
        refused(res, 404, user({ action: "secret.read_refused", details: { vault_id: vault.id, path: "no/such", reason: "secret_not_found" } })),
      ]);

      // Expired: written just before its expiry, read after it.
      const soon = expiringSoon();
      await expectAudit("secret.write (expiring)", () => admin.put(`${base}/secrets/old`, { value: value("expired"), expires_at: soon.expiresAt }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "secret.write", resource_id: res.body.id })];
      });
      await soon.passed();
      await expectAudit("read_refused (expired)", () => admin.get(`${base}/secrets/old`), (res) => [
        refused(res, 410, user({ action: "secret.read_refused", details: { vault_id: vault.id, path: "old", reason: "secret_expired" } })),
      ]);

      // max_access_count 1: the first read counts and is audited, the second is refused and audited.
      const limited = await expectAudit("secret.write (limited)", () => admin.put(`${base}/secrets/once`, { value: value("once"), max_access_count: 1 }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "secret.write", resource_id: res.body.id })];
      });
      await expectAudit("secret.read (limited)", () => admin.get(`${base}/secrets/once`), (res) => {
        assert.equal(res.status, 200, res.text);
        return [user({ action: "secret.read", resource_id: limited.body.id })];
      });
      await expectAudit("read_refused (max_access_count)", () => admin.get(`${base}/secrets/once`), (res) => [
        refused(res, 410, user({ action: "secret.read_refused", details: { vault_id: vault.id, path: "once", reason: "access_limit_reached" } })),
      ]);

      await expectAudit("vault.delete", () => admin.delete(base), (res) => {
        assert.equal(res.status, 204, res.text);
        return [user({ action: "vault.delete", resource_type: "vault", resource_id: vault.id })];
      });
    });

    test("MPC: vault.mpc_enable once; refused reads for missing, malformed, wrong and mismatched client shares", async () => {
      const vault = await makeVault(admin, "mpc-audited");
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
      await expectAudit("vault.mpc_enable", () => admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: "2of2_client_custody" }), (res) => {
        assert.equal(res.status, 200, res.text);
        return [user({ action: "vault.mpc_enable", resource_type: "vault", resource_id: vault.id, details: { custody_mode: "2of2_client_custody" } })];
      });
      await expectAudit("vault.create with mpc_custody", () => admin.post("/v1/vaults", { name: "mpc-at-birth", mpc_custody: "2-of-3" }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [
          user({ action: "vault.create", resource_id: res.body.id }),
          user({ action: "vault.mpc_enable", resource_id: res.body.id, details: { custody_mode: "2of3_multi_hsm" } }),
        ];
      });

      const base = `/v1/vaults/${vault.id}/secrets/mpc/key`;
      const v1 = value("mpc-1");
      const first = await expectAudit("secret.write (client custody)", () => admin.put(base, { value: v1 }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "secret.write", resource_id: res.body.id, details: { version: 1 } })];
      });
      const share1 = keep(first.body.client_share as string);
      const second = await admin.put(base, { value: value("mpc-2") });
      assert.equal(second.status, 201);
      const share2 = keep(second.body.client_share as string);
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));

      const cases: Array<[string, Record<string, string>, number, string, number | undefined]> = [
        ["missing share", {}, 400, "client_share_required", undefined],
        ["malformed share", { "X-Client-Share": "not a share!" }, 400, "client_share_malformed", undefined],
        ["bad check", { "X-Client-Share": editShare(share2, (b) => void (b[5]! ^= 1), { recheck: false }) }, 400, "client_share_malformed", undefined],
        ["wrong share bytes", { "X-Client-Share": keep(wrongShareBytes(share2)) }, 400, "client_share_invalid", undefined],
        ["another version's share", { "X-Client-Share": share1 }, 400, "client_share_mismatch", undefined],
        ["missing share, ?version=1", {}, 400, "client_share_required", 1],
      ];
      for (const [label, headers, status, code, version] of cases) {
        await expectAudit(`read_refused (${label})`, () => admin.get(`${base}${version ? `?version=${version}` : ""}`, { headers }), (res) => [
          refused(res, status, user({ action: "secret.read_refused", details: { vault_id: vault.id, path: "mpc/key", reason: code, ...(version ? { version } : {}) } })),
        ]);
      }
      await expectAudit("secret.read (right share)", () => admin.get(`${base}?version=1`, { headers: { "X-Client-Share": share1 } }), (res) => {
        assert.equal(res.status, 200, res.text);
        assert.equal(res.body.value, v1);
        return [user({ action: "secret.read", resource_id: first.body.id, details: { version: 1 } })];
      });
    });

    test("agents and API keys: each change recorded exactly once; agent actions carry the agent as actor", async () => {
      const vault = await makeVault(admin, "agent-audited");
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
      const created = await expectAudit("agent.create", () => admin.post("/v1/agents", { name: "audited-agent", vault_ids: [vault.id] }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "agent.create", resource_type: "agent", resource_id: res.body.agent.id, details: { name: "audited-agent" } })];
      });
      await expectAudit("policy.create", () => grant(admin, vault.id, { type: "agent", id: created.body.agent.id }), (policy) => [
        user({ action: "policy.create", resource_type: "policy", resource_id: policy.id, details: { vault_id: vault.id, principal_type: "agent", pattern: "**" } }),
      ]);
      keep(created.body.api_key);
      const agentId = created.body.agent.id as string;
      await expectAudit("agent.update (name)", () => patch(admin, `/v1/agents/${agentId}`, { name: "renamed" }), (res) => {
        assert.equal(res.status, 200, res.text);
        return [user({ action: "agent.update", resource_type: "agent", resource_id: agentId })];
      });
      await expectAudit("agent.update (deactivate)", () => patch(admin, `/v1/agents/${agentId}`, { is_active: false }), [user({ action: "agent.update", resource_id: agentId })]);
      await expectAudit("agent.update (reactivate)", () => patch(admin, `/v1/agents/${agentId}`, { is_active: true }), [user({ action: "agent.update", resource_id: agentId })]);
      const rotated = await expectAudit("agent.rotate_key", () => admin.post(`/v1/agents/${agentId}/rotate-key`), (res) => {
        assert.equal(res.status, 200, res.text);
        return [user({ action: "agent.rotate_key", resource_type: "agent", resource_id: agentId })];
      });
      const agentKey = keep(rotated.body.api_key as string);

      // The agent's own secret work: actor_type agent, actor_id the agent.
      const token = keep((await agentToken(url, agentKey)).access_token);
      const as = api(url, token);
      const asAgent = (more: Expected): Expected => ({ actor_id: agentId, actor_type: "agent", ...more });
      const written = await expectAudit("agent secret.write", () => as.put(`/v1/vaults/${vault.id}/secrets/agent/x`, { value: value("agent") }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [asAgent({ action: "secret.write", resource_id: res.body.id })];
      });
      await expectAudit("agent secret.read", () => as.get(`/v1/vaults/${vault.id}/secrets/agent/x`), [asAgent({ action: "secret.read", resource_id: written.body.id })]);
      await expectAudit("agent secret.rotate", () => as.post(`/v1/vaults/${vault.id}/secret-rotate/agent/x`, {}), (res) => [asAgent({ action: "secret.rotate", resource_id: res.body.id })]);
      keep((await admin.get(`/v1/vaults/${vault.id}/secrets/agent/x`)).body.value);
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
      await expectAudit("agent secret.delete", () => as.delete(`/v1/vaults/${vault.id}/secrets/agent/x`), [asAgent({ action: "secret.delete", details: { path: "agent/x" } })]);
      // Refused management by the agent changes nothing and records only the refusals, with their reasons.
      await expectAudit("agent refused management", async () => {
        assert.equal((await as.post("/v1/vaults", { name: "nope" })).status, 403);
        assert.equal((await as.post(`/v1/agents/${agentId}/rotate-key`)).status, 403);
      }, [
        asAgent({ action: "access.denied", resource_type: "route", resource_id: "POST /v1/vaults", details: { reason: "scope_missing", scope: "vaults:write" } }),
        asAgent({ action: "access.denied", resource_type: "route", details: { reason: "forbidden", route: "POST /v1/agents/:agent_id/rotate-key" } }),
      ]);

      await expectAudit("agent.delete", () => admin.delete(`/v1/agents/${agentId}`), (res) => {
        assert.equal(res.status, 204, res.text);
        return [user({ action: "agent.delete", resource_type: "agent", resource_id: agentId })];
      });

      const key = await expectAudit("api_key.create", () => admin.post("/v1/auth/api-keys", { name: "audited key", scopes: ["secrets:read"] }), (res) => {
        assert.equal(res.status, 201, res.text);
        return [user({ action: "api_key.create", resource_type: "api_key", resource_id: res.body.key.id, details: { name: "audited key" } })];
      });
      keep(key.body.api_key);
      keep((await userToken(url, key.body.api_key)).access_token);
      await expectAudit("api_key.revoke", () => admin.delete(`/v1/auth/api-keys/${key.body.key.id}`), (res) => {
        assert.equal(res.status, 204, res.text);
        return [user({ action: "api_key.revoke", resource_type: "api_key", resource_id: key.body.key.id })];
      });
      // Failed changes record nothing.
      await expectAudit("failed changes", async () => {
        assert.equal((await admin.delete(`/v1/agents/${randomUUID()}`)).status, 404);
        assert.equal((await admin.delete(`/v1/auth/api-keys/${randomUUID()}`)).status, 404);
        assert.equal((await admin.delete(`/v1/vaults/${randomUUID()}`)).status, 404);
        assert.equal((await admin.post("/v1/agents", { name: "x", vault_ids: [randomUUID()] })).status, 400);
      }, []);
    });

    test("a read refused because the agent may not use the vault is audited too", async () => {
      const mine = await makeVault(admin, "agent-home");
      const other = await makeVault(admin, "agent-forbidden");
      assert.equal((await admin.put(`/v1/vaults/${other.id}/secrets/guarded`, { value: value("guarded") })).status, 201);
      const agent = await createAgent(admin, { name: "nosy", vault_ids: [mine.id] });
      keep(agent.api_key);
      const token = keep((await agentToken(url, agent.api_key)).access_token);
      seen = new Set((await allAuditEvents(admin)).map((e) => e.id));
      await expectAudit("read_refused (forbidden vault)", () => api(url, token).get(`/v1/vaults/${other.id}/secrets/guarded`), (res) => {
        assert.ok(res.status === 403 || res.status === 404, res.text);
        return [{ action: "secret.read_refused", actor_id: agent.agent.id, actor_type: "agent", details: { path: "guarded", reason: res.body.code } }];
      });
    });

    test("events never contain values, keys, shares or tokens", async () => {
      const { res, count, events } = await auditQuery(admin, { limit: 1000 });
      assert.equal(events.length, count);
      assert.ok(count > 40, `${count} events`);
      assertNoLeak(res.text, sensitive);
      assertNoLeak(JSON.stringify(events), sensitive);
    });

    test("filters and pagination: count is the total, events the page, newest first", async () => {
      // Enough events for more than one default page.
      const vault = await makeVault(admin, "paged");
      for (let i = 0; i < 30; i++) assert.equal((await admin.put(`/v1/vaults/${vault.id}/secrets/p/${i}`, { value: value(`p${i}`) })).status, 201);
      const all = await allAuditEvents(admin);
      const total = all.length;
      assert.ok(total > 60, `${total} events`);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.created_at >= all[i]!.created_at, "newest first");

      const firstPage = await auditQuery(admin);
      assert.equal(firstPage.count, total);
      assert.equal(firstPage.events.length, 50, "default limit 50");
      assert.deepEqual(firstPage.events.map((e) => e.id), all.slice(0, 50).map((e) => e.id));

      const pages: string[] = [];
      for (let offset = 0; offset < total; offset += 7) {
        const page = await auditQuery(admin, { limit: 7, offset });
        assert.equal(page.count, total, `count at offset ${offset}`);
        assert.equal(page.events.length, Math.min(7, total - offset));
        pages.push(...page.events.map((e) => e.id));
      }
      assert.deepEqual(pages, all.map((e) => e.id), "the pages make up the whole log, in order, each event once");
      const beyond = await auditQuery(admin, { offset: total + 5 });
      assert.deepEqual(beyond.events, []);
      assert.equal(beyond.count, total);

      const check = async (query: Record<string, string | number>, predicate: (e: AuditEvent) => boolean, label: string) => {
        const expected = all.filter(predicate).map((e) => e.id);
        assert.ok(expected.length > 0, `${label}: the filter selects something`);
        const got = await auditQuery(admin, { ...query, limit: 1000 });
        assert.equal(got.count, expected.length, label);
        assert.deepEqual(got.events.map((e) => e.id), expected, label);
        const paged = await auditQuery(admin, { ...query, limit: 2, offset: 1 });
        assert.equal(paged.count, expected.length, `${label} (paged)`);
        assert.deepEqual(paged.events.map((e) => e.id), expected.slice(1, 3), `${label} (paged)`);
      };
      await check({ action: "secret.write" }, (e) => e.action === "secret.write", "action");
      await check({ action: "secret.read_refused" }, (e) => e.action === "secret.read_refused", "action read_refused");
      await check({ resource_id: vault.id }, (e) => e.resource_id === vault.id, "resource_id (vault)");
      const someSecret = all.find((e) => e.action === "secret.write")!;
      await check({ resource_id: someSecret.resource_id }, (e) => e.resource_id === someSecret.resource_id, "resource_id (secret version)");
      await check({ actor_id: adminUserId }, (e) => e.actor_id === adminUserId, "actor_id (user)");
      const agentEvent = all.find((e) => e.actor_type === "agent")!;
      await check({ actor_id: agentEvent.actor_id }, (e) => e.actor_id === agentEvent.actor_id, "actor_id (agent)");
      await check({ actor_id: adminUserId, action: "vault.create" }, (e) => e.actor_id === adminUserId && e.action === "vault.create", "actor_id + action");

      // from / to: a bound strictly between two events (at millisecond precision) splits the log there.
      const oldestFirst = [...all].reverse();
      const mid = Math.floor(oldestFirst.length / 2);
      let split = -1;
      for (let i = mid; i < oldestFirst.length - 1; i++) {
        if (Date.parse(oldestFirst[i + 1]!.created_at) > Date.parse(oldestFirst[i]!.created_at)) {
          split = i;
          break;
        }
      }
      assert.ok(split >= 0, "two events with distinct times");
      const bound = new Date(Date.parse(oldestFirst[split]!.created_at) + 1).toISOString();
      await check({ from: bound }, (e) => Date.parse(e.created_at) >= Date.parse(bound), "from");
      await check({ to: bound }, (e) => Date.parse(e.created_at) < Date.parse(bound), "to");
      await check({ from: oldestFirst[0]!.created_at, to: bound }, (e) => Date.parse(e.created_at) < Date.parse(bound), "from + to");
      await check({ from: bound, action: "secret.write" }, (e) => Date.parse(e.created_at) >= Date.parse(bound) && e.action === "secret.write", "from + action");
      // Nothing matches: an empty page, count 0.
      for (const query of [{ resource_id: randomUUID() }, { actor_id: randomUUID() }, { actor_id: "not-a-uuid" }, { from: new Date(Date.now() + 86_400_000).toISOString() }, { to: "2000-01-01T00:00:00Z" }]) {
        const none = await auditQuery(admin, query);
        assert.deepEqual(none.events, [], JSON.stringify(query));
        assert.equal(none.count, 0, JSON.stringify(query));
      }
    });

    test("an event's own created_at, as `from` or as `to`, selects that event", async () => {
      const all = await allAuditEvents(admin);
      const pivot = all[Math.floor(all.length / 2)]!;
      const from = await auditQuery(admin, { from: pivot.created_at, limit: 1000 });
      assert.ok(from.events.some((e) => e.id === pivot.id), `from=${pivot.created_at} excludes the event created at ${pivot.created_at}`);
      const to = await auditQuery(admin, { to: pivot.created_at, limit: 1000 });
      assert.ok(to.events.some((e) => e.id === pivot.id), `to=${pivot.created_at} excludes the event created at ${pivot.created_at}`);
      const both = await auditQuery(admin, { from: pivot.created_at, to: pivot.created_at, limit: 1000 });
      assert.ok(both.events.some((e) => e.id === pivot.id), `from=to=${pivot.created_at} excludes the event created at that time`);
    });

    test("bad audit queries are 400 problems; agents get 403; no token 401", async () => {
      for (const query of [
        "action=secret.explode",
        "action=",
        "from=yesterday",
        "to=12",
        "from=2024-13-01T00:00:00Z",
        "limit=-1",
        "limit=abc",
        "limit=10000",
        "offset=-5",
        "offset=1.5",
        "unknown=1",
        `resource_id=${"x".repeat(201)}`,
        `actor_id=${"x".repeat(65)}`,
      ]) {
        const res = await admin.get(`/v1/audit/events?${query}`);
        assertProblem(res, 400, "validation_error", undefined, query);
      }
      assertProblem(await api(url).get("/v1/audit/events"), 401, "unauthorized");
      const agent = await createAgent(admin, { name: "auditor" });
      keep(agent.api_key);
      const token = keep((await agentToken(url, agent.api_key)).access_token);
      assertProblem(await api(url, token).get("/v1/audit/events"), 403, "forbidden");
    });

    test("the server's output holds no value, key, share or token", async () => {
      await deployment.server.stop();
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
