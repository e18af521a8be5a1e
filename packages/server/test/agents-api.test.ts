/**
 * Agents over real HTTP, on the embedded database (PGlite) and on PostgreSQL:
 *
 * - `POST /v1/agents` (users only) answers 201 `{agent, api_key}` with the `ocv_` key once; list `{agents}`, get,
 *   PATCH (name, description, scopes, vault_ids, token_ttl_seconds, is_active), delete, rotate-key,
 *   `GET /v1/agents/me` (agent token only); `scopes` stored, echoed and enforced (403 `scope_missing`);
 * - an agent reads, writes, lists, disables, rotates and deletes secrets in a vault a policy opens to it; outside
 *   it 404; `vault_ids` empty is no bound, yet without a policy an agent reaches no vault (not even one created
 *   later); `vault_ids` is read from the database on each request: removed while a token is valid, the next
 *   request is refused; added back, the same token works again;
 * - agents get 403 on vault create (without vaults:write), vault delete/MPC (vaults they do not manage), agent,
 *   API-key and audit management, and nothing changes;
 * - deactivating (PATCH is_active false), deleting or re-keying ends every token at once; the old key no longer
 *   exchanges after rotate-key, the new one does; reactivation does not revive old tokens;
 * - `token_ttl_seconds` becomes the token's `expires_in`; an agent past its `expires_at` cannot get a token;
 * - bad input is a 4xx problem, never a 5xx;
 * - the server's output holds no secret value, key or token.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertJsonLogs, assertNoLeak, assertProblem, DATABASE_KINDS, expiringSoon, secretValue, UUID, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { agentToken, createAgent, fetchJwks, grant, makeVault, patch, userToken, verifyWithJwks, type CreatedAgent } from "./support/auth-support.js";

const AGENT_FIELDS = [
  "created_at", "created_by", "description", "expires_at", "id", "is_active", "key_prefix", "last_used_at", "name", "scopes", "token_ttl_seconds", "vault_ids",
];

for (const kind of DATABASE_KINDS) {
  describe(`agents-api on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let adminUserId: string;
    let vaultA: string;
    let vaultB: string;
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);
    const value = (label: string) => keep(secretValue(label));
    /** An agent, every permission on `grants` through a policy, and a client with a fresh token of it. */
    async function agentWithToken(body: Record<string, unknown>, grants: string[] = []): Promise<{ created: CreatedAgent; token: string; as: Api }> {
      const created = await createAgent(admin, body);
      for (const vaultId of grants) await grant(admin, vaultId, { type: "agent", id: created.agent.id });
      keep(created.api_key);
      const token = keep((await agentToken(url, created.api_key)).access_token);
      return { created, token, as: api(url, token) };
    }

    before(async () => {
      deployment = await deploy(kind, { env: { SHARDVAULT_LOG_LEVEL: "trace" } });
      url = deployment.server.url;
      keep(deployment.server.adminKey);
      admin = api(url, deployment.server.adminKey);
      const a = await makeVault(admin, "agents-a");
      vaultA = a.id;
      adminUserId = a.created_by;
      vaultB = (await makeVault(admin, "agents-b")).id;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("create answers {agent, api_key} once; list, get, PATCH and /me describe it; scopes echoed", async () => {
      const expiresAt = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
      const body = { name: "ci-bot", description: "deploys", scopes: ["secrets:read", "policies:write"], vault_ids: [vaultA], token_ttl_seconds: 900, expires_at: expiresAt };
      const res = await admin.post("/v1/agents", body);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(Object.keys(res.body).sort(), ["agent", "api_key"]);
      const key = keep(res.body.api_key as string);
      assert.match(key, /^ocv_[A-Za-z0-9_-]{43}$/);
      const agent = res.body.agent;
      assert.deepEqual(Object.keys(agent).sort(), AGENT_FIELDS);
      assert.match(agent.id, UUID);
      assert.equal(agent.name, "ci-bot");
      assert.equal(agent.description, "deploys");
      assert.deepEqual(agent.scopes, ["secrets:read", "policies:write"]);
      assert.deepEqual(agent.vault_ids, [vaultA]);
      assert.equal(agent.is_active, true);
      assert.equal(agent.token_ttl_seconds, 900);
      assert.equal(agent.expires_at, expiresAt);
      assert.equal(agent.created_by, adminUserId);
      assert.ok(!Number.isNaN(Date.parse(agent.created_at)));
      assert.equal(agent.last_used_at, null);
      assert.ok(key.startsWith(agent.key_prefix) && agent.key_prefix.length < key.length);

      const list = await admin.get("/v1/agents");
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(Object.keys(list.body), ["agents"]);
      const listed = list.body.agents.find((x: { id: string }) => x.id === agent.id);
      assert.deepEqual(listed, agent);
      assert.ok(!list.text.includes(key) && !list.text.includes(key.slice(12)), "the listing holds the key");
      const got = await admin.get(`/v1/agents/${agent.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, agent);
      assert.ok(!got.text.includes(key.slice(12)));

      // The token carries the TTL and the scopes; /me answers the agent (last_used_at now set).
      const token = await agentToken(url, key);
      keep(token.access_token);
      assert.equal(token.expires_in, 900);
      const { payload } = await verifyWithJwks(token.access_token, await fetchJwks(url));
      assert.deepEqual(payload.scopes, ["secrets:read", "policies:write"]);
      const me = await api(url, token.access_token).get("/v1/agents/me");
      assert.equal(me.status, 200, me.text);
      assert.deepEqual({ ...me.body, last_used_at: null }, agent);
      assert.ok(me.body.last_used_at !== null);
      // /me is for agents: a user token has no agent identity.
      assertProblem(await admin.get("/v1/agents/me"), 403, "forbidden");

      // PATCH: each field echoed, unnamed fields untouched; the change shows in get.
      const patched = await patch(admin, `/v1/agents/${agent.id}`, { name: "ci-bot-2", description: "", scopes: ["secrets:write"], token_ttl_seconds: 60 });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.name, "ci-bot-2");
      assert.equal(patched.body.description, "");
      assert.deepEqual(patched.body.scopes, ["secrets:write"]);
      assert.equal(patched.body.token_ttl_seconds, 60);
      assert.deepEqual(patched.body.vault_ids, [vaultA]);
      assert.equal(patched.body.expires_at, expiresAt);
      assert.equal(patched.body.key_prefix, agent.key_prefix);
      assert.deepEqual((await admin.get(`/v1/agents/${agent.id}`)).body, patched.body);
      // An empty PATCH changes nothing and answers the agent.
      const empty = await patch(admin, `/v1/agents/${agent.id}`, {});
      assert.equal(empty.status, 200, empty.text);
      assert.deepEqual(empty.body, patched.body);
      // Scopes are enforced: with every permission through a policy, an agent scoped secrets:write writes but
      // does not read; the same token follows a scope change at once.
      await grant(admin, vaultA, { type: "agent", id: agent.id });
      const t2 = keep((await agentToken(url, key)).access_token);
      assert.equal((await agentToken(url, key)).expires_in, 60);
      const put = await api(url, t2).put(`/v1/vaults/${vaultA}/secrets/scoped/x`, { value: value("scoped") });
      assert.equal(put.status, 201, put.text);
      assertProblem(await api(url, t2).get(`/v1/vaults/${vaultA}/secrets/scoped/x`), 403, "scope_missing", /secrets:read/);
      assert.equal((await patch(admin, `/v1/agents/${agent.id}`, { scopes: ["secrets:read"] })).status, 200);
      assert.equal((await api(url, t2).get(`/v1/vaults/${vaultA}/secrets/scoped/x`)).status, 200);
      assertProblem(await api(url, t2).put(`/v1/vaults/${vaultA}/secrets/scoped/x`, { value: value("scoped") }), 403, "scope_missing", /secrets:write/);
    });

    test("an agent reads, writes, lists, disables, rotates and deletes secrets in its vault; 404 outside it", async () => {
      const { created, as } = await agentWithToken({ name: "worker", vault_ids: [vaultA] }, [vaultA]);
      const base = `/v1/vaults/${vaultA}`;
      const v1 = value("agent-1");
      const v2 = value("agent-2");
      const w1 = await as.put(`${base}/secrets/app/db`, { value: v1, type: "password" });
      assert.equal(w1.status, 201, w1.text);
      assert.equal((await as.put(`${base}/secrets/app/db`, { value: v2 })).status, 201);
      const read = await as.get(`${base}/secrets/app/db`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.value, v2);
      assert.equal(read.body.created_by, created.agent.id);
      assert.equal((await as.get(`${base}/secrets/app/db?version=1`)).body.value, v1);
      assert.equal((await as.get(`${base}/secret-version/app/db/1`)).body.value, v1);
      const list = await as.get(`${base}/secrets?prefix=app`);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.secrets.map((s: { path: string }) => s.path), ["app/db"]);
      assert.equal((await as.get(`${base}/secret-versions/app/db`)).body.versions.length, 2);
      assert.equal((await as.post(`${base}/secret-version-disable/app/db/1`)).status, 204);
      const rotated = await as.post(`${base}/secret-rotate/app/db`, { length: 40, charset: "alphanumeric" });
      assert.equal(rotated.status, 201, rotated.text);
      assert.equal(rotated.body.version, 3);
      const generated = await as.get(`${base}/secrets/app/db`);
      assert.match(generated.body.value, /^[A-Za-z0-9]{40}$/);
      keep(generated.body.value);
      assert.equal((await as.delete(`${base}/secrets/app/db`)).status, 204);
      assert.equal((await as.get(`${base}/secrets/app/db`)).status, 410);

      // The vault list shows its vaults only; another vault of the organization is 404 everywhere.
      const vaults = await as.get("/v1/vaults");
      assert.deepEqual(vaults.body.vaults.map((v: { id: string }) => v.id), [vaultA]);
      assert.equal((await as.get(`/v1/vaults/${vaultA}`)).status, 200);
      const secretB = value("b-secret");
      assert.equal((await admin.put(`/v1/vaults/${vaultB}/secrets/b/one`, { value: secretB })).status, 201);
      const outside = `/v1/vaults/${vaultB}`;
      for (const [label, res] of [
        ["get vault", await as.get(outside)],
        ["read", await as.get(`${outside}/secrets/b/one`)],
        ["read version", await as.get(`${outside}/secret-version/b/one/1`)],
        ["write", await as.put(`${outside}/secrets/b/one`, { value: value("intruder") })],
        ["list", await as.get(`${outside}/secrets`)],
        ["versions", await as.get(`${outside}/secret-versions/b/one`)],
        ["disable", await as.post(`${outside}/secret-version-disable/b/one/1`)],
        ["rotate", await as.post(`${outside}/secret-rotate/b/one`, {})],
        ["delete", await as.delete(`${outside}/secrets/b/one`)],
      ] as const) {
        assertProblem(res, 404, "vault_not_found", undefined, `outside its vaults: ${label}`);
      }
      // Nothing changed in vault B.
      const stillB = await admin.get(`${outside}/secrets/b/one`);
      assert.equal(stillB.body.value, secretB);
      assert.equal(stillB.body.version, 1);
    });

    test("vault_ids empty is no bound, yet without a policy an agent reaches no vault, not even one created later", async () => {
      const { created, as } = await agentWithToken({ name: "all-vaults" });
      const later = await makeVault(admin, "later");
      assert.deepEqual((await as.get("/v1/vaults")).body.vaults, []);
      for (const id of [vaultA, vaultB, later.id]) assertProblem(await as.get(`/v1/vaults/${id}`), 404, "vault_not_found");
      const v = value("later");
      assertProblem(await as.put(`/v1/vaults/${later.id}/secrets/x`, { value: v }), 404, "vault_not_found");
      // A policy opens the later vault, and only it.
      await grant(admin, later.id, { type: "agent", id: created.agent.id });
      assert.deepEqual((await as.get("/v1/vaults")).body.vaults.map((x: { id: string }) => x.id), [later.id]);
      assert.equal((await as.put(`/v1/vaults/${later.id}/secrets/x`, { value: v })).status, 201);
      assert.equal((await as.get(`/v1/vaults/${later.id}/secrets/x`)).body.value, v);
      assertProblem(await as.get(`/v1/vaults/${vaultB}`), 404, "vault_not_found");
    });

    test("vault_ids is read on every request: removed while the token is valid → refused; added back → allowed", async () => {
      const { created, token, as } = await agentWithToken({ name: "rescoped", vault_ids: [vaultA, vaultB] }, [vaultA, vaultB]);
      const v = value("rescope");
      assert.equal((await as.put(`/v1/vaults/${vaultB}/secrets/r/x`, { value: v })).status, 201);
      assert.equal((await as.get(`/v1/vaults/${vaultB}/secrets/r/x`)).status, 200);

      const narrowed = await patch(admin, `/v1/agents/${created.agent.id}`, { vault_ids: [vaultA] });
      assert.equal(narrowed.status, 200, narrowed.text);
      assert.deepEqual(narrowed.body.vault_ids, [vaultA]);
      // The token still says [A, B]; the database says [A].
      const { payload } = await verifyWithJwks(token, await fetchJwks(url));
      assert.deepEqual([...(payload.vault_ids as string[])].sort(), [vaultA, vaultB].sort());
      assertProblem(await as.get(`/v1/vaults/${vaultB}/secrets/r/x`), 404, "vault_not_found", undefined, "read after removal");
      assertProblem(await as.put(`/v1/vaults/${vaultB}/secrets/r/x`, { value: value("late") }), 404, "vault_not_found", undefined, "write after removal");
      assert.deepEqual((await as.get("/v1/vaults")).body.vaults.map((x: { id: string }) => x.id), [vaultA]);
      assert.equal((await as.get(`/v1/vaults/${vaultA}`)).status, 200);

      assert.equal((await patch(admin, `/v1/agents/${created.agent.id}`, { vault_ids: [vaultA, vaultB] })).status, 200);
      const again = await as.get(`/v1/vaults/${vaultB}/secrets/r/x`);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.value, v);

      // Widened to no bound ([]), the same token sees the vaults its policies open, and no other.
      assert.equal((await patch(admin, `/v1/agents/${created.agent.id}`, { vault_ids: [] })).status, 200);
      assert.equal((await as.get(`/v1/vaults/${vaultB}`)).status, 200);
      assert.deepEqual((await as.get("/v1/vaults")).body.vaults.map((x: { id: string }) => x.id).sort(), [vaultA, vaultB].sort());
    });

    test("an agent whose only vault is deleted sees no vault at all (its scope does not widen to every vault)", async () => {
      const doomed = await makeVault(admin, "doomed");
      // A policy on vault A too: the bound (vault_ids) keeps it out, before and after the deletion.
      const { created, as } = await agentWithToken({ name: "orphaned", vault_ids: [doomed.id] }, [doomed.id, vaultA]);
      assertProblem(await as.get(`/v1/vaults/${vaultA}`), 404, "vault_not_found");
      assert.equal((await admin.delete(`/v1/vaults/${doomed.id}`)).status, 204);
      assert.deepEqual((await as.get("/v1/vaults")).body.vaults, []);
      assertProblem(await as.get(`/v1/vaults/${vaultA}`), 404, "vault_not_found");
      assertProblem(await as.put(`/v1/vaults/${vaultA}/secrets/orphan`, { value: value("orphan") }), 404, "vault_not_found");
      // A fresh token of it is just as limited.
      const fresh = keep((await agentToken(url, created.api_key)).access_token);
      assertProblem(await api(url, fresh).get(`/v1/vaults/${vaultB}`), 404, "vault_not_found");
    });

    test("agents get 403 on vault, MPC, agent, API-key and audit management, and nothing changes", async () => {
      const { created, as } = await agentWithToken({ name: "limited", vault_ids: [vaultA] }, [vaultA]);
      const other = await createAgent(admin, { name: "bystander" });
      keep(other.api_key);
      const vaultsBefore = (await admin.get("/v1/vaults")).body.vaults.length;
      const agentsBefore = (await admin.get("/v1/agents")).body.agents;
      const keysBefore = (await admin.get("/v1/auth/api-keys")).body.keys;
      const adminKeyId = keysBefore[0].id;
      // Creating vaults needs the vaults:write scope said outright; a vault opened by a policy is not the
      // agent's to delete or re-protect (it did not create it); the rest is for users.
      const calls: Array<[string, () => Promise<any>, string]> = [
        ["create vault", () => as.post("/v1/vaults", { name: "agent-vault" }), "scope_missing"],
        ["create MPC vault", () => as.post("/v1/vaults", { name: "agent-mpc", mpc_custody: "2-of-3" }), "scope_missing"],
        ["delete the vault it may use", () => as.delete(`/v1/vaults/${vaultA}`), "access_denied"],
        ["enable MPC on the vault it may use", () => as.post(`/v1/vaults/${vaultA}/mpc`, { custody_mode: "2of3_multi_hsm" }), "access_denied"],
        ["list agents", () => as.get("/v1/agents"), "forbidden"],
        ["create agent", () => as.post("/v1/agents", { name: "child" }), "forbidden"],
        ["get itself", () => as.get(`/v1/agents/${created.agent.id}`), "forbidden"],
        ["get another", () => as.get(`/v1/agents/${other.agent.id}`), "forbidden"],
        ["patch itself", () => patch(as, `/v1/agents/${created.agent.id}`, { vault_ids: [] }), "forbidden"],
        ["deactivate another", () => patch(as, `/v1/agents/${other.agent.id}`, { is_active: false }), "forbidden"],
        ["rotate its key", () => as.post(`/v1/agents/${created.agent.id}/rotate-key`), "forbidden"],
        ["delete another", () => as.delete(`/v1/agents/${other.agent.id}`), "forbidden"],
        ["create API key", () => as.post("/v1/auth/api-keys", { name: "agent key" }), "forbidden"],
        ["list API keys", () => as.get("/v1/auth/api-keys"), "forbidden"],
        ["revoke API key", () => as.delete(`/v1/auth/api-keys/${adminKeyId}`), "forbidden"],
        ["read audit", () => as.get("/v1/audit/events"), "forbidden"],
      ];
      for (const [label, call, code] of calls) assertProblem(await call(), 403, code, undefined, label);
      assert.equal((await admin.get("/v1/vaults")).body.vaults.length, vaultsBefore);
      assert.equal((await admin.get(`/v1/vaults/${vaultA}`)).body.mpc_custody, undefined);
      assert.deepEqual((await admin.get("/v1/agents")).body.agents, agentsBefore);
      assert.deepEqual((await admin.get("/v1/auth/api-keys")).body.keys, keysBefore);
      // Its token still works: the refusals changed nothing about it.
      assert.equal((await as.get("/v1/agents/me")).status, 200);
    });

    test("deactivating ends every token at once; reactivation does not revive them; a new exchange works", async () => {
      const { created, token, as } = await agentWithToken({ name: "deactivated", vault_ids: [vaultA] }, [vaultA]);
      const second = keep((await agentToken(url, created.api_key)).access_token);
      assert.equal((await as.get(`/v1/vaults/${vaultA}`)).status, 200);
      const off = await patch(admin, `/v1/agents/${created.agent.id}`, { is_active: false });
      assert.equal(off.status, 200, off.text);
      assert.equal(off.body.is_active, false);
      for (const t of [token, second]) assertProblem(await api(url, t).get(`/v1/vaults/${vaultA}`), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized");
      const on = await patch(admin, `/v1/agents/${created.agent.id}`, { is_active: true });
      assert.equal(on.body.is_active, true);
      for (const t of [token, second]) assertProblem(await api(url, t).get(`/v1/vaults/${vaultA}`), 401, "unauthorized", undefined, "old token after reactivation");
      const fresh = keep((await agentToken(url, created.api_key)).access_token);
      assert.equal((await api(url, fresh).get(`/v1/vaults/${vaultA}`)).status, 200);
    });

    test("deleting ends every token at once; the agent and its key are gone", async () => {
      const { created, token, as } = await agentWithToken({ name: "deleted" });
      assert.equal((await as.get("/v1/agents/me")).status, 200);
      const del = await admin.delete(`/v1/agents/${created.agent.id}`);
      assert.equal(del.status, 204, del.text);
      assert.equal(del.text, "");
      assertProblem(await api(url, token).get("/v1/vaults"), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized");
      assertProblem(await admin.get(`/v1/agents/${created.agent.id}`), 404, "agent_not_found");
      assert.ok(!(await admin.get("/v1/agents")).body.agents.some((x: { id: string }) => x.id === created.agent.id));
      assertProblem(await admin.delete(`/v1/agents/${created.agent.id}`), 404, "agent_not_found");
    });

    test("rotate-key: a new key once; old tokens and the old key end at once; the new key exchanges", async () => {
      const { created, token } = await agentWithToken({ name: "rekeyed", vault_ids: [vaultA], scopes: ["vaults:read"] }, [vaultA]);
      const res = await admin.post(`/v1/agents/${created.agent.id}/rotate-key`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(Object.keys(res.body).sort(), ["agent", "api_key"]);
      const newKey = keep(res.body.api_key as string);
      assert.match(newKey, /^ocv_[A-Za-z0-9_-]{43}$/);
      assert.notEqual(newKey, created.api_key);
      assert.equal(res.body.agent.id, created.agent.id);
      assert.ok(newKey.startsWith(res.body.agent.key_prefix));
      assert.deepEqual(res.body.agent.scopes, ["vaults:read"]);
      assert.deepEqual(res.body.agent.vault_ids, [vaultA]);

      assertProblem(await api(url, token).get(`/v1/vaults/${vaultA}`), 401, "unauthorized", undefined, "token of the old key");
      assertProblem(await api(url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized", undefined, "old key");
      const fresh = await agentToken(url, newKey, created.agent.id);
      keep(fresh.access_token);
      assert.deepEqual(fresh.vault_ids, [vaultA]);
      assert.equal((await api(url, fresh.access_token).get(`/v1/vaults/${vaultA}`)).status, 200);
      assert.equal((await admin.get(`/v1/agents/${created.agent.id}`)).body.key_prefix, res.body.agent.key_prefix);
      // Unknown agents: 404.
      assertProblem(await admin.post(`/v1/agents/${randomUUID()}/rotate-key`), 404, "agent_not_found");
    });

    test("an agent past its expires_at gets no token, and its tokens stop", async () => {
      const { created, token } = await agentWithToken({ name: "expiring" });
      const soon = expiringSoon();
      const patched = await patch(admin, `/v1/agents/${created.agent.id}`, { expires_at: soon.expiresAt });
      assert.equal(patched.status, 200, patched.text);
      await soon.passed();
      assertProblem(await api(url, token).get("/v1/vaults"), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized");
      // Clearing the expiry (null) brings the key back.
      assert.equal((await patch(admin, `/v1/agents/${created.agent.id}`, { expires_at: null })).status, 200);
      keep((await agentToken(url, created.api_key)).access_token);
    });

    test("a raw ocv_ key as a bearer: 401 saying to exchange it at POST /v1/auth/agent-token first", async () => {
      const created = await createAgent(admin, { name: "raw-bearer" });
      keep(created.api_key);
      for (const bearer of [created.api_key, `ocv_${"A".repeat(43)}`]) {
        assertProblem(await api(url, bearer).get("/v1/agents/me"), 401, "unauthorized", /POST \/v1\/auth\/agent-token/, bearer.slice(0, 8));
      }
      // The exchange itself works with the same key.
      keep((await agentToken(url, created.api_key)).access_token);
    });

    test("an expires_at in the past is refused on create and update (400 expires_at_in_past)", async () => {
      const past = new Date(Date.now() - 60_000).toISOString();
      assertProblem(await admin.post("/v1/agents", { name: "born-expired", expires_at: past }), 400, "expires_at_in_past", /future/);
      assert.ok(!(await admin.get("/v1/agents")).body.agents.some((a: { name: string }) => a.name === "born-expired"), "nothing created");
      const created = await createAgent(admin, { name: "kept" });
      keep(created.api_key);
      assertProblem(await patch(admin, `/v1/agents/${created.agent.id}`, { expires_at: past }), 400, "expires_at_in_past", /future/);
      assert.equal((await admin.get(`/v1/agents/${created.agent.id}`)).body.expires_at, null, "nothing changed");
    });

    test("bad input on agent routes: 4xx problem+json, never 5xx", async () => {
      const bodies: Array<[unknown, string]> = [
        [{}, "validation_error"],
        [{ name: "" }, "validation_error"],
        [{ name: 5 }, "validation_error"],
        [{ name: "x", scopes: "all" }, "validation_error"],
        [{ name: "x", scopes: ["secrets:*"] }, "validation_error"],
        [{ name: "x", vault_ids: "all" }, "validation_error"],
        [{ name: "x", vault_ids: [5] }, "validation_error"],
        [{ name: "x", vault_ids: ["not-a-uuid"] }, "vault_not_found"],
        [{ name: "x", vault_ids: [randomUUID()] }, "vault_not_found"],
        [{ name: "x", vault_ids: [vaultA, randomUUID()] }, "vault_not_found"],
        [{ name: "x", token_ttl_seconds: 59 }, "validation_error"],
        [{ name: "x", token_ttl_seconds: 86401 }, "validation_error"],
        [{ name: "x", token_ttl_seconds: 1.5 }, "validation_error"],
        [{ name: "x", token_ttl_seconds: "60" }, "validation_error"],
        [{ name: "x", expires_at: "soon" }, "validation_error"],
        [[], "validation_error"],
      ];
      for (const [body, code] of bodies) assertProblem(await admin.post("/v1/agents", body), 400, code, undefined, `create ${JSON.stringify(body)}`);
      const agent = await createAgent(admin, { name: "patched-badly" });
      keep(agent.api_key);
      for (const [body, code] of [
        [{ is_active: "no" }, "validation_error"],
        [{ name: "" }, "validation_error"],
        [{ vault_ids: ["nope"] }, "vault_not_found"],
        [{ vault_ids: [randomUUID()] }, "vault_not_found"],
        [{ token_ttl_seconds: 10 }, "validation_error"],
        [{ expires_at: "never" }, "validation_error"],
      ] as const) {
        assertProblem(await patch(admin, `/v1/agents/${agent.agent.id}`, body), 400, code, undefined, `patch ${JSON.stringify(body)}`);
      }
      // Nothing of those patches stuck.
      const unchanged = await admin.get(`/v1/agents/${agent.agent.id}`);
      assert.deepEqual(unchanged.body, agent.agent);
      for (const id of [randomUUID(), "not-a-uuid", "%20", "1".repeat(100)]) {
        assertProblem(await admin.get(`/v1/agents/${encodeURIComponent(id)}`), 404, "agent_not_found", undefined, `get ${id}`);
        assertProblem(await patch(admin, `/v1/agents/${encodeURIComponent(id)}`, { name: "n" }), 404, "agent_not_found", undefined, `patch ${id}`);
        assertProblem(await admin.delete(`/v1/agents/${encodeURIComponent(id)}`), 404, "agent_not_found", undefined, `delete ${id}`);
      }
      assertProblem(await api(url).get("/v1/agents"), 401, "unauthorized");
      assertProblem(await api(url).get("/v1/agents/me"), 401, "unauthorized");
      keep((await userToken(url, deployment.server.adminKey)).access_token);
    });

    test("the server's output holds no secret value, key or token", async () => {
      await deployment.server.stop();
      // The JSON logs (at trace level: everything the server logs) are read too, their request lines included.
      const requests = assertJsonLogs(deployment.server.output());
      assert.ok(requests.length > 10, `request lines are logged (${requests.length})`);
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
