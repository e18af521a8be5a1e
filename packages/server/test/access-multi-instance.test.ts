/**
 * Access changes made through one instance count on another at once (two instances on one PostgreSQL, as a
 * scaled-out deployment runs them):
 *
 * - a policy created on A opens a vault to an agent on B; updated on B (a deny above it) it refuses on A;
 *   deleted on A, the agent's next read on B is refused;
 * - a member demoted on A loses, on B, what the role gave; removed on B, its session and API key are refused on
 *   A; a changed password on A ends the sessions B issued;
 * - the outputs hold no value, key, password or token.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, provisionLocalKeys, secretValue, startServer, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason, type TestDatabase } from "./support/postgres.js";
import { makeVault, patch } from "./support/auth-support.js";
import { addMember, agentClient, PASSWORD, signIn } from "./support/access-support.js";

describe("access-multi-instance on postgres", { skip: await postgresSkipReason() }, () => {
  let db: TestDatabase;
  let a: ServerHandle;
  let b: ServerHandle;
  const adminKey = `1ck_${randomBytes(32).toString("base64url")}`;
  const sensitive: string[] = [adminKey, PASSWORD];
  const keep = <T extends string>(s: T) => (sensitive.push(s), s);

  before(async () => {
    db = await createTestDatabase("access_multi");
    const env = { SHARDVAULT_KEYS_DIR: provisionLocalKeys(), SHARDVAULT_ADMIN_API_KEY: adminKey };
    // One after the other: the second finds the database migrated and bootstrapped.
    a = await startServer({ database: "postgres", databaseUrl: db.url, env });
    b = await startServer({ database: "postgres", databaseUrl: db.url, env });
  });

  after(async () => {
    await Promise.all([a, b].filter(Boolean).map((s) => s.stop().catch(() => undefined)));
    await db?.drop();
  });

  test("a policy created, tightened and deleted through one instance counts on the other at once", async () => {
    const ownerA = api(a.url, adminKey);
    const ownerB = api(b.url, adminKey);
    const vault = await makeVault(ownerA, "multi-policy");
    const value = keep(secretValue("multi"));
    assert.equal((await ownerA.put(`/v1/vaults/${vault.id}/secrets/app/key`, { value })).status, 201);
    const bot = await agentClient(a.url, ownerA, { name: "multi-bot" });
    keep(bot.created.api_key);
    const onA = api(a.url, keep(bot.token));
    const onB = api(b.url, bot.token);
    const path = `/v1/vaults/${vault.id}/secrets/app/key`;
    assertProblem(await onB.get(path), 404, "vault_not_found");

    const allow = await ownerA.post(`/v1/vaults/${vault.id}/policies`, { secret_path_pattern: "app/**", principal_type: "agent", principal_id: bot.created.agent.id, permissions: ["read"] });
    assert.equal(allow.status, 201, allow.text);
    assert.equal((await onB.get(path)).body.value, value);

    const deny = await ownerB.post(`/v1/vaults/${vault.id}/policies`, {
      secret_path_pattern: "app/key", principal_type: "agent", principal_id: bot.created.agent.id, permissions: ["read"], effect: "deny", priority: 1,
    });
    assert.equal(deny.status, 201, deny.text);
    assertProblem(await onA.get(path), 403, "access_denied");
    assert.equal((await ownerB.delete(`/v1/vaults/${vault.id}/policies/${deny.body.id}`)).status, 204);
    assert.equal((await onA.get(path)).body.value, value);

    assert.equal((await ownerA.delete(`/v1/vaults/${vault.id}/policies/${allow.body.id}`)).status, 204);
    assertProblem(await onB.get(path), 404, "vault_not_found");
    assertProblem(await onA.get(path), 404, "vault_not_found");
  });

  test("a member demoted, re-passworded or removed through one instance is refused on the other at once", async () => {
    const ownerA = api(a.url, adminKey);
    const ownerB = api(b.url, adminKey);
    const lee = await addMember(a.url, ownerA, "lee@example.com", "admin");
    keep(lee.token);
    keep(lee.inviteToken);
    const sessionB = api(b.url, keep(await signIn(b.url, "lee@example.com")));
    const key = await api(a.url, lee.token).post("/v1/auth/api-keys", { name: "lee" });
    assert.equal(key.status, 201, key.text);
    const keyOnA = api(a.url, keep(key.body.api_key));
    const vault = await makeVault(ownerB, "multi-member");
    assert.equal((await sessionB.get(`/v1/vaults/${vault.id}`)).status, 200);

    // Demoted on A: on B the session loses the vault the admin role gave.
    assert.equal((await patch(ownerA, `/v1/org/members/${lee.id}`, { role: "member" })).status, 200);
    assertProblem(await sessionB.get(`/v1/vaults/${vault.id}`), 404, "vault_not_found");
    assertProblem(await sessionB.get("/v1/agents"), 403, "forbidden");

    // A new password set on A ends the session B issued.
    const changed = await api(a.url, lee.token).post("/v1/auth/change-password", { current_password: PASSWORD, new_password: "lee's second password" });
    assert.equal(changed.status, 200, changed.text);
    keep(changed.body.access_token);
    assertProblem(await sessionB.get("/v1/auth/me"), 401, "unauthorized");
    const fresh = api(a.url, changed.body.access_token);
    assert.equal((await fresh.get("/v1/auth/me")).status, 200);

    // Removed on B: the session and the API key are refused on A.
    assert.equal((await ownerB.delete(`/v1/org/members/${lee.id}`)).status, 204);
    assertProblem(await fresh.get("/v1/auth/me"), 401, "unauthorized");
    assertProblem(await keyOnA.get("/v1/vaults"), 401, "unauthorized");
  });

  test("the outputs of both instances hold no value, key, password or token", async () => {
    for (const server of [a, b]) {
      await server.stop();
      assertNoLeak(server.output(), sensitive);
    }
  });
});
