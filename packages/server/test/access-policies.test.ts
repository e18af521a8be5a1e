/**
 * Policies over real HTTP, on the embedded database (PGlite) and on PostgreSQL:
 *
 * - 1claw's golden path: vault, secret, agent; the agent sees nothing (404) until a policy allows it; the
 *   policy created with the exact body 1claw's SDK sends (`access.grantAgent`) and its MCP server sends
 *   (`grant_access`) answers 201 with every Policy field; list `{policies}`; PUT changes it; DELETE 204 (with
 *   the Content-Type 1claw sends) and the next read is refused;
 * - globs: `*` one segment, `**` any depth (zero too); listings show only readable paths, the vault list only
 *   vaults with access; a refused path on a visible vault is 403 `access_denied`, an invisible vault 404;
 * - priority (highest decides) and deny (wins ties); the four permissions map to their routes;
 * - expiry, `not_before`, `not_after`, `ip_allowlist`; a change counts from the next request;
 * - members reach other vaults only through policies, own what they create; owners and admins reach all;
 * - an agent's non-empty vault_ids bounds what policies grant;
 * - scopes narrow agents and user keys (403 `scope_missing` naming the scope); an agent with vaults:write
 *   creates a vault, owns it and manages its policies;
 * - only those who manage a vault manage its policies;
 * - every bad input is a 4xx with its code; every change is audited (policy.create|update|delete) and every
 *   refusal too (access.denied, secret.read_refused), without values;
 * - the server's output holds no value, key, password or token.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, secretValue, UUID, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { allAuditEvents, grant, makeVault, patch } from "./support/auth-support.js";
import { addMember, agentClient, JSON_HEADERS, oneclawGrantBody, POLICY_FIELDS, type Member } from "./support/access-support.js";

for (const kind of DATABASE_KINDS) {
  describe(`access-policies on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let ownerId: string;
    let member: Member;
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);
    /** A vault of the owner holding one secret per path, each path's value remembered. */
    async function vaultWith(name: string, paths: string[]): Promise<{ id: string; values: Map<string, string> }> {
      const vault = await makeVault(admin, name);
      const values = new Map<string, string>();
      for (const path of paths) {
        const v = keep(secretValue(path.replace(/\//g, "-")));
        const put = await admin.put(`/v1/vaults/${vault.id}/secrets/${path}`, { value: v });
        assert.equal(put.status, 201, put.text);
        values.set(path, v);
      }
      return { id: vault.id, values };
    }
    async function agent(body: Record<string, unknown> = {}) {
      const made = await agentClient(url, admin, { name: `agent-${randomUUID().slice(0, 8)}`, ...body });
      keep(made.created.api_key);
      keep(made.token);
      return { id: made.created.agent.id, as: made.as };
    }
    const paths = async (as: Api, vaultId: string, prefix = "") => {
      const res = await as.get(`/v1/vaults/${vaultId}/secrets${prefix ? `?prefix=${prefix}` : ""}`);
      assert.equal(res.status, 200, res.text);
      return res.body.secrets.map((s: { path: string }) => s.path).sort();
    };

    before(async () => {
      deployment = await deploy(kind);
      url = deployment.server.url;
      keep(deployment.server.adminKey);
      admin = api(url, deployment.server.adminKey);
      ownerId = (await admin.get("/v1/auth/me")).body.id;
      member = await addMember(url, admin, "member@example.com");
      keep(member.token);
      keep(member.inviteToken);
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("golden path with 1claw's bodies: nothing before a policy; grant, list, update, revoke; refused at once after", async () => {
      const vault = await vaultWith("golden", ["api-keys/stripe"]);
      const bot = await agent();
      const read = () => bot.as.get(`/v1/vaults/${vault.id}/secrets/api-keys/stripe`);
      assertProblem(await read(), 404, "vault_not_found");
      assert.deepEqual((await bot.as.get("/v1/vaults")).body.vaults, []);

      // access.grantAgent(vault, agent, ["read"]): 1claw's SDK body.
      const created = await admin.post(`/v1/vaults/${vault.id}/policies`, oneclawGrantBody("agent", bot.id, ["read"]));
      assert.equal(created.status, 201, created.text);
      const policy = created.body;
      assert.deepEqual(Object.keys(policy).sort(), POLICY_FIELDS);
      assert.match(policy.id, UUID);
      assert.deepEqual(
        { ...policy, id: undefined, created_at: undefined },
        {
          id: undefined, created_at: undefined, vault_id: vault.id, secret_path_pattern: "**", principal_type: "agent", principal_id: bot.id, permissions: ["read"],
          effect: "allow", priority: 0, conditions: {}, expires_at: null, created_by: ownerId, created_by_type: "user",
        },
      );
      const got = await read();
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.value, vault.values.get("api-keys/stripe"));
      assert.deepEqual((await bot.as.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id), [vault.id]);
      // Read only: writing is refused, on a vault it can see, with 403.
      assertProblem(await bot.as.put(`/v1/vaults/${vault.id}/secrets/api-keys/stripe`, { value: keep(secretValue("w")) }), 403, "access_denied", /write on api-keys\/stripe/);

      // access.listGrants: {policies: [...]}.
      const listed = await admin.get(`/v1/vaults/${vault.id}/policies`, JSON_HEADERS);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body, { policies: [policy] });

      // access.update: PUT with 1claw's UpdatePolicyRequest shape.
      const updated = await admin.put(`/v1/vaults/${vault.id}/policies/${policy.id}`, { permissions: ["read", "write"], effect: "allow", priority: 3 });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual(updated.body, { ...policy, permissions: ["read", "write"], priority: 3 });
      assert.equal((await bot.as.put(`/v1/vaults/${vault.id}/secrets/api-keys/new`, { value: keep(secretValue("w")) })).status, 201);

      // access.revoke: DELETE with Content-Type and no body, 204; the next read is refused.
      const revoked = await admin.delete(`/v1/vaults/${vault.id}/policies/${policy.id}`, JSON_HEADERS);
      assert.equal(revoked.status, 204, revoked.text);
      assert.equal(revoked.text, "");
      assertProblem(await read(), 404, "vault_not_found");
      assert.deepEqual((await admin.get(`/v1/vaults/${vault.id}/policies`)).body, { policies: [] });
      assertProblem(await admin.delete(`/v1/vaults/${vault.id}/policies/${policy.id}`), 404, "policy_not_found");

      // The MCP server's grant_access body: no effect, no priority, no principal_type inference needed.
      const mcp = await admin.post(`/v1/vaults/${vault.id}/policies`, { secret_path_pattern: "**", principal_type: "agent", principal_id: bot.id, permissions: ["read"] });
      assert.equal(mcp.status, 201, mcp.text);
      assert.equal(mcp.body.effect, "allow");
      assert.equal(mcp.body.priority, 0);
      assert.equal((await read()).status, 200);
      // Without principal_type the server finds the principal's kind.
      const inferred = await admin.post(`/v1/vaults/${vault.id}/policies`, { secret_path_pattern: "x", principal_id: member.id, permissions: ["read"] });
      assert.equal(inferred.status, 201, inferred.text);
      assert.equal(inferred.body.principal_type, "user");
    });

    test("globs: `*` is one segment, `**` any depth including none; listings show only what may be read", async () => {
      const vault = await vaultWith("globs", ["prod", "prod/db", "prod/db/password", "prod/api", "dev/db", "top", "a/b/c/d"]);
      const bot = await agent();
      const single = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "prod/*" });
      assert.deepEqual(await paths(bot.as, vault.id), ["prod/api", "prod/db"]);
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secrets/prod/db/password`), 403, "access_denied");
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secrets/prod`), 403, "access_denied");
      assert.equal((await bot.as.get(`/v1/vaults/${vault.id}/secrets/prod/db`)).body.value, vault.values.get("prod/db"));

      assert.equal((await admin.delete(`/v1/vaults/${vault.id}/policies/${single.id}`)).status, 204);
      await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "prod/**" });
      assert.deepEqual(await paths(bot.as, vault.id), ["prod", "prod/api", "prod/db", "prod/db/password"]);
      assert.deepEqual(await paths(bot.as, vault.id, "prod/db"), ["prod/db", "prod/db/password"]);
      await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "a/**/d" });
      assert.equal((await bot.as.get(`/v1/vaults/${vault.id}/secrets/a/b/c/d`)).status, 200);
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secrets/dev/db`), 403, "access_denied");
      // Versions of a readable path, yes; of another, no.
      assert.equal((await bot.as.get(`/v1/vaults/${vault.id}/secret-versions/prod/db`)).status, 200);
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secret-versions/top`), 403, "access_denied");
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secret-version/top/1`), 403, "access_denied");
    });

    test("priority: the highest decides; at equal priority deny wins; a deny names what it refused", async () => {
      const vault = await vaultWith("priority", ["prod/db", "prod/api", "dev/db"]);
      const bot = await agent();
      await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "**", priority: 1 });
      const deny = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "prod/**", effect: "deny", priority: 1 });
      assert.deepEqual(await paths(bot.as, vault.id), ["dev/db"]);
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secrets/prod/db`), 403, "access_denied", /read on prod\/db is refused: a policy denies it/);
      // A higher allow on one path overrides the deny there only.
      await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "prod/api", priority: 2 });
      assert.deepEqual(await paths(bot.as, vault.id), ["dev/db", "prod/api"]);
      // Lowering the deny below the allow lets the ** allow decide again.
      assert.equal((await admin.put(`/v1/vaults/${vault.id}/policies/${deny.id}`, { priority: 0 })).status, 200);
      assert.deepEqual(await paths(bot.as, vault.id), ["dev/db", "prod/api", "prod/db"]);
    });

    test("permissions: read, write, delete and rotate each open their routes, and only theirs", async () => {
      const vault = await vaultWith("permissions", ["p/x"]);
      const base = `/v1/vaults/${vault.id}`;
      const bot = await agent();
      const policy = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["write"]);
      // In this order, so each allowed call finds what it needs (a live version to read, version 1 to disable).
      const calls: Array<[string, () => Promise<any>]> = [
        ["write", () => bot.as.put(`${base}/secrets/p/x`, { value: keep(secretValue("perm")) })],
        ["read", () => bot.as.get(`${base}/secrets/p/x`)],
        ["disable", () => bot.as.post(`${base}/secret-version-disable/p/x/1`)],
        ["rotate", () => bot.as.post(`${base}/secret-rotate/p/x`, {})],
      ];
      const expectAllowed = async (allowed: string[]) => {
        for (const [name, call] of calls) {
          const res = await call();
          if (allowed.includes(name)) assert.ok(res.status >= 200 && res.status < 300, `${name}: ${res.text}`);
          else assertProblem(res, 403, "access_denied", undefined, name);
        }
        if (!allowed.includes("delete")) assertProblem(await bot.as.delete(`${base}/secrets/p/x`), 403, "access_denied", undefined, "delete");
      };
      await expectAllowed(["write", "disable"]);
      assert.equal((await admin.put(`${base}/policies/${policy.id}`, { permissions: ["read", "rotate"] })).status, 200);
      await expectAllowed(["read", "rotate"]);
      assert.equal((await admin.put(`${base}/policies/${policy.id}`, { permissions: ["delete"] })).status, 200);
      await expectAllowed(["delete"]);
      assert.equal((await bot.as.delete(`${base}/secrets/p/x`)).status, 204);
    });

    test("expiry and conditions: an expired policy, not_before, not_after and ip_allowlist; changes count at once", async () => {
      const vault = await vaultWith("conditions", ["c"]);
      const bot = await agent();
      const read = () => bot.as.get(`/v1/vaults/${vault.id}/secrets/c`);
      const past = new Date(Date.now() - 60_000).toISOString();
      const future = new Date(Date.now() + 3_600_000).toISOString();
      const policy = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { expires_at: past });
      assert.equal(policy.expires_at, past);
      assertProblem(await read(), 404, "vault_not_found", undefined, "expired");
      const set = async (change: Record<string, unknown>) => {
        const res = await admin.put(`/v1/vaults/${vault.id}/policies/${policy.id}`, change);
        assert.equal(res.status, 200, res.text);
        return res.body;
      };
      assert.equal((await set({ expires_at: future })).expires_at, future);
      assert.equal((await read()).status, 200);
      // A grant whose condition does not hold shows the vault, and refuses the request (403).
      await set({ expires_at: null, conditions: { not_before: future } });
      assertProblem(await read(), 403, "access_denied", undefined, "not yet");
      await set({ conditions: { not_after: past } });
      assertProblem(await read(), 403, "access_denied", undefined, "no more");
      const window = await set({ conditions: { not_before: past, not_after: future } });
      assert.deepEqual(window.conditions, { not_before: past, not_after: future });
      assert.equal((await read()).status, 200);
      // The harness talks over loopback.
      await set({ conditions: { ip_allowlist: ["10.0.0.0/8", "2001:db8::/32"] } });
      assertProblem(await read(), 403, "access_denied", undefined, "other addresses");
      assert.deepEqual((await set({ conditions: { ip_allowlist: ["127.0.0.0/8", "::1"] } })).conditions, { ip_allowlist: ["127.0.0.0/8", "::1"] });
      assert.equal((await read()).status, 200);
      // An empty conditions object clears them.
      assert.deepEqual((await set({ conditions: {} })).conditions, {});
    });

    test("members: other vaults only through policies; their own vaults fully; owners and admins everything", async () => {
      const vault = await vaultWith("members", ["team/one", "ops/two"]);
      assertProblem(await member.as.get(`/v1/vaults/${vault.id}`), 404, "vault_not_found");
      assert.ok(!(await member.as.get("/v1/vaults")).body.vaults.some((v: { id: string }) => v.id === vault.id));
      // access.grantHuman: 1claw's body for a user.
      const res = await admin.post(`/v1/vaults/${vault.id}/policies`, oneclawGrantBody("user", member.id, ["read"], { secretPathPattern: "team/**" }));
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(await paths(member.as, vault.id), ["team/one"]);
      assertProblem(await member.as.get(`/v1/vaults/${vault.id}/secrets/ops/two`), 403, "access_denied");
      // A policy does not make the member a manager of the vault.
      assertProblem(await member.as.get(`/v1/vaults/${vault.id}/policies`), 403, "access_denied");
      assertProblem(await member.as.delete(`/v1/vaults/${vault.id}`), 403, "access_denied");
      // Its own vault: everything, including its policies; the owner sees it too.
      const own = await makeVault(member.as, "member-own");
      assert.equal(own.created_by, member.id);
      const v = keep(secretValue("own"));
      assert.equal((await member.as.put(`/v1/vaults/${own.id}/secrets/mine`, { value: v })).status, 201);
      assert.equal((await member.as.get(`/v1/vaults/${own.id}/secrets/mine`)).body.value, v);
      assert.equal((await member.as.get(`/v1/vaults/${own.id}/policies`)).status, 200);
      assert.equal((await admin.get(`/v1/vaults/${own.id}/secrets/mine`)).body.value, v);
      // An admin reaches every vault, with no policy.
      const adminMember = await addMember(url, admin, "admin@example.com", "admin");
      keep(adminMember.token);
      assert.equal((await adminMember.as.get(`/v1/vaults/${own.id}/secrets/mine`)).body.value, v);
      assert.equal((await adminMember.as.get(`/v1/vaults/${vault.id}/secrets/ops/two`)).status, 200);
    });

    test("an agent's non-empty vault_ids bounds what policies grant; its policies elsewhere count once it is widened", async () => {
      const inside = await vaultWith("bound-in", ["x"]);
      const outside = await vaultWith("bound-out", ["x"]);
      const bot = await agent({ vault_ids: [inside.id] });
      await grant(admin, inside.id, { type: "agent", id: bot.id }, ["read"]);
      await grant(admin, outside.id, { type: "agent", id: bot.id }, ["read"]);
      assert.equal((await bot.as.get(`/v1/vaults/${inside.id}/secrets/x`)).status, 200);
      assertProblem(await bot.as.get(`/v1/vaults/${outside.id}/secrets/x`), 404, "vault_not_found");
      assert.deepEqual((await bot.as.get("/v1/vaults")).body.vaults.map((v: { id: string }) => v.id), [inside.id]);
      assert.equal((await patch(admin, `/v1/agents/${bot.id}`, { vault_ids: [inside.id, outside.id] })).status, 200);
      assert.equal((await bot.as.get(`/v1/vaults/${outside.id}/secrets/x`)).status, 200);
    });

    test("scopes narrow agents and user keys; an agent with vaults:write creates a vault, owns it and grants on it", async () => {
      const vault = await vaultWith("scopes", ["s"]);
      const reader = await agent({ scopes: ["secrets:read"] });
      await grant(admin, vault.id, { type: "agent", id: reader.id });
      assert.equal((await reader.as.get(`/v1/vaults/${vault.id}/secrets/s`)).status, 200);
      assertProblem(await reader.as.put(`/v1/vaults/${vault.id}/secrets/s`, { value: keep(secretValue("no")) }), 403, "scope_missing", /secrets:write/);
      assertProblem(await reader.as.delete(`/v1/vaults/${vault.id}/secrets/s`), 403, "scope_missing", /secrets:delete/);
      assertProblem(await reader.as.get("/v1/vaults"), 403, "scope_missing", /vaults:read/);

      // A user key scoped to reading: the owner's full role, narrowed.
      const key = await admin.post("/v1/auth/api-keys", { name: "read-only", scopes: ["secrets:read", "vaults:read"] });
      assert.equal(key.status, 201, key.text);
      const scoped = api(url, keep(key.body.api_key));
      assert.equal((await scoped.get(`/v1/vaults/${vault.id}/secrets/s`)).status, 200);
      assertProblem(await scoped.put(`/v1/vaults/${vault.id}/secrets/s`, { value: keep(secretValue("no")) }), 403, "scope_missing", /secrets:write/);
      assertProblem(await scoped.post(`/v1/vaults/${vault.id}/policies`, { secret_path_pattern: "**", principal_id: reader.id, permissions: ["read"] }), 403, "scope_missing", /policies:write/);
      assertProblem(await scoped.post("/v1/org/invite", { email: "x@example.com" }), 403, "scope_missing");
      // It mints keys within its scopes only.
      assertProblem(await scoped.post("/v1/auth/api-keys", { name: "wider", scopes: ["secrets:write"] }), 403, "scope_missing", /secrets:write/);
      assertProblem(await scoped.post("/v1/auth/api-keys", { name: "unscoped" }), 403, "scope_missing");
      const narrower = await scoped.post("/v1/auth/api-keys", { name: "narrower", scopes: ["secrets:read"] });
      assert.equal(narrower.status, 201, narrower.text);
      keep(narrower.body.api_key);
      assertProblem(await admin.post("/v1/auth/api-keys", { name: "typo", scopes: ["secret:read"] }), 400, "validation_error");

      // vaults:write: the agent creates a vault and owns it (reads, writes, grants) without any policy.
      const builder = await agent({ scopes: ["vaults:write", "vaults:read", "secrets:read", "secrets:write", "policies:write", "policies:read"] });
      const own = await builder.as.post("/v1/vaults", { name: "agent-made" });
      assert.equal(own.status, 201, own.text);
      assert.equal(own.body.created_by, builder.id);
      assert.equal(own.body.created_by_type, "agent");
      const v = keep(secretValue("agent-own"));
      assert.equal((await builder.as.put(`/v1/vaults/${own.body.id}/secrets/k`, { value: v })).status, 201);
      assert.equal((await builder.as.get(`/v1/vaults/${own.body.id}/secrets/k`)).body.value, v);
      // The MCP server's grant_access: an agent grants on a vault it created.
      const shared = await builder.as.post(`/v1/vaults/${own.body.id}/policies`, { secret_path_pattern: "**", principal_type: "agent", principal_id: reader.id, permissions: ["read"] });
      assert.equal(shared.status, 201, shared.text);
      assert.equal(shared.body.created_by_type, "agent");
      assert.equal((await reader.as.get(`/v1/vaults/${own.body.id}/secrets/k`)).body.value, v);
      // ... but not on a vault it did not create.
      assertProblem(await builder.as.post(`/v1/vaults/${vault.id}/policies`, { secret_path_pattern: "**", principal_id: builder.id, permissions: ["read"] }), 404, "vault_not_found");
      // Without vaults:write an agent creates nothing, even with no scopes at all.
      assertProblem(await (await agent()).as.post("/v1/vaults", { name: "nope" }), 403, "scope_missing", /vaults:write/);
    });

    test("bad input: each refusal is a 4xx with its code, and nothing is stored", async () => {
      const vault = await vaultWith("bad-input", []);
      const bot = await agent();
      const base = `/v1/vaults/${vault.id}/policies`;
      const body = (more: Record<string, unknown>) => ({ secret_path_pattern: "**", principal_type: "agent", principal_id: bot.id, permissions: ["read"], ...more });
      const cases: Array<[Record<string, unknown>, string]> = [
        [body({ secret_path_pattern: "prod-*" }), "invalid_pattern"],
        [body({ secret_path_pattern: "/prod" }), "invalid_pattern"],
        [body({ secret_path_pattern: "a//b" }), "invalid_pattern"],
        [body({ secret_path_pattern: "a/../b" }), "invalid_pattern"],
        [body({ secret_path_pattern: "" }), "validation_error"],
        [body({ secret_path_pattern: "x".repeat(1025) }), "validation_error"],
        [body({ permissions: [] }), "validation_error"],
        [body({ permissions: ["admin"] }), "validation_error"],
        [body({ permissions: "read" }), "validation_error"],
        [body({ effect: "maybe" }), "validation_error"],
        [body({ priority: -1 }), "validation_error"],
        [body({ priority: 1.5 }), "validation_error"],
        [body({ priority: 2 ** 31 }), "validation_error"],
        [body({ expires_at: "tomorrow" }), "validation_error"],
        [body({ conditions: { ip_allowlist: ["10.0.0.0/8"], weekdays: ["mon"] } }), "unknown_condition"],
        [body({ conditions: { ip_allowlist: "10.0.0.0/8" } }), "invalid_condition"],
        [body({ conditions: { ip_allowlist: ["10.0.0.0/33"] } }), "invalid_condition"],
        [body({ conditions: { ip_allowlist: ["example.com"] } }), "invalid_condition"],
        [body({ conditions: { not_before: "soon" } }), "invalid_condition"],
        [body({ conditions: { not_before: "2031-01-01T00:00:00Z", not_after: "2030-01-01T00:00:00Z" } }), "invalid_condition"],
        [body({ conditions: "none" }), "validation_error"],
        [body({ attribute_conditions: { required_tags: ["prod"] } }), "unsupported_condition"],
        [body({ tx_conditions: { max_value: "1" } }), "unsupported_condition"],
        [body({ principal_id: randomUUID() }), "principal_not_found"],
        [body({ principal_id: "not-a-uuid" }), "principal_not_found"],
        [body({ principal_type: "user" }), "principal_not_found"],
        [body({ principal_type: "group" }), "validation_error"],
        [{ principal_id: bot.id, permissions: ["read"] }, "validation_error"],
      ];
      for (const [b, code] of cases) assertProblem(await admin.post(base, b), 400, code, undefined, JSON.stringify(b).slice(0, 120));
      assert.deepEqual((await admin.get(base)).body, { policies: [] });
      const policy = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"]);
      for (const [b, code] of [
        [{ conditions: { region: "eu" } }, "unknown_condition"],
        [{ permissions: [] }, "validation_error"],
        [{ priority: -5 }, "validation_error"],
        [{ consensus_trigger: { approvers: 2 } }, "unsupported_condition"],
      ] as const) {
        assertProblem(await admin.put(`${base}/${policy.id}`, b), 400, code, undefined, JSON.stringify(b));
      }
      assert.deepEqual((await admin.get(base)).body, { policies: [policy] });
      // Unknown policies and vaults.
      for (const id of [randomUUID(), "not-a-uuid"]) {
        assertProblem(await admin.put(`${base}/${id}`, { priority: 1 }), 404, "policy_not_found");
        assertProblem(await admin.delete(`${base}/${id}`), 404, "policy_not_found");
      }
      for (const id of [randomUUID(), "nope"]) {
        assertProblem(await admin.get(`/v1/vaults/${id}/policies`), 404, "vault_not_found");
        assertProblem(await admin.post(`/v1/vaults/${id}/policies`, body({})), 404, "vault_not_found");
      }
      // A policy of another vault is not found through this one.
      const other = await vaultWith("bad-input-2", []);
      assertProblem(await admin.delete(`/v1/vaults/${other.id}/policies/${policy.id}`), 404, "policy_not_found");
      assertProblem(await api(url).get(base), 401, "unauthorized");
    });

    test("audit: every policy change, and every refusal with its reason; never a value", async () => {
      const vault = await vaultWith("audited", ["secret/one"]);
      const bot = await agent();
      const policy = await grant(admin, vault.id, { type: "agent", id: bot.id }, ["read"], { secret_path_pattern: "other/**" });
      assert.equal((await admin.put(`/v1/vaults/${vault.id}/policies/${policy.id}`, { priority: 4 })).status, 200);
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/secrets/secret/one`), 403, "access_denied");
      assertProblem(await bot.as.put(`/v1/vaults/${vault.id}/secrets/secret/one`, { value: keep(secretValue("denied")) }), 403, "access_denied");
      assertProblem(await bot.as.get(`/v1/vaults/${vault.id}/policies`), 403, "access_denied");
      assert.equal((await admin.delete(`/v1/vaults/${vault.id}/policies/${policy.id}`)).status, 204);
      const events = await allAuditEvents(admin);
      const find = (action: string, pred: (e: any) => boolean = () => true) => events.filter((e) => e.action === action && pred(e));
      assert.equal(find("policy.create", (e) => e.resource_id === policy.id).length, 1);
      const [created] = find("policy.create", (e) => e.resource_id === policy.id);
      assert.deepEqual(created!.details, { vault_id: vault.id, principal_type: "agent", principal_id: bot.id, pattern: "other/**", permissions: ["read"], effect: "allow", priority: 0 });
      assert.deepEqual(find("policy.update", (e) => e.resource_id === policy.id).map((e) => e.details), [{ vault_id: vault.id, fields: ["priority"] }]);
      assert.equal(find("policy.delete", (e) => e.resource_id === policy.id).length, 1);
      // The value read: secret.read_refused with the code; the write and the policy listing: access.denied.
      const readRefused = find("secret.read_refused", (e) => e.actor_id === bot.id);
      assert.deepEqual(readRefused.map((e) => e.details), [{ vault_id: vault.id, path: "secret/one", reason: "access_denied" }]);
      const denied = find("access.denied", (e) => e.actor_id === bot.id);
      assert.deepEqual(
        denied.map((e) => [e.resource_type, e.resource_id, e.details.reason, e.details.cause, e.details.permission ?? e.details.needed, e.details.route]).sort(),
        [
          ["vault", vault.id, "access_denied", "no_matching_policy", "write", "PUT /v1/vaults/:vault_id/secrets/*"],
          ["vault", vault.id, "access_denied", undefined, "manage", "GET /v1/vaults/:vault_id/policies"],
        ].sort(),
      );
      assertNoLeak(JSON.stringify(events), sensitive);
    });

    test("the server's output holds no value, key, password or token", async () => {
      await deployment.server.stop();
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
