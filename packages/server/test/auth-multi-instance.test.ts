/**
 * Two instances on one PostgreSQL database (given the same local providers' keys folder, as an operator
 * provisions a scaled-out deployment): every instance verifies every other's tokens.
 *
 * - both publish the same JWKS, and each one's JWKS verifies the other's tokens (jose, EdDSA);
 * - a user token and an agent token issued by A work on B and the other way round;
 * - revocation is seen by every instance at once, also for tokens both have verified before (their signatures
 *   are remembered; revocation is not): a user key revoked on A ends the tokens B issued from it on B and on A,
 *   value reads included; an agent deactivated on B ends the token A issued, on both; an agent re-keyed on A ends B's
 *   token on both, and B exchanges the new key;
 * - an agent's vault scope changed on one instance applies on the other to a token already issued;
 * - the outputs hold no key and no token.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, provisionLocalKeys, secretValue, startServer, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason, type TestDatabase } from "./support/postgres.js";
import { agentToken, assertAgentClaims, assertUserClaims, createAgent, fetchJwks, grant, makeVault, patch, userToken, verifyWithJwks } from "./support/auth-support.js";

describe("auth-multi-instance on postgres", { skip: await postgresSkipReason() }, () => {
  let db: TestDatabase;
  let a: ServerHandle;
  let b: ServerHandle;
  const adminKey = `1ck_${randomBytes(32).toString("base64url")}`;
  const sensitive: string[] = [adminKey];
  const keep = <T extends string>(s: T) => (sensitive.push(s), s);

  before(async () => {
    db = await createTestDatabase("auth_multi");
    const env = { SHARDVAULT_KEYS_DIR: provisionLocalKeys(), SHARDVAULT_ADMIN_API_KEY: adminKey };
    const started = await Promise.allSettled([
      startServer({ database: "postgres", databaseUrl: db.url, env }),
      startServer({ database: "postgres", databaseUrl: db.url, env }),
    ]);
    const ok = started.filter((s): s is PromiseFulfilledResult<ServerHandle> => s.status === "fulfilled").map((s) => s.value);
    if (ok.length !== 2) {
      await Promise.all(ok.map((s) => s.stop().catch(() => undefined)));
      assert.fail(`an instance did not start: ${started.map((s) => (s.status === "rejected" ? String(s.reason) : "")).join("\n")}`);
    }
    [a, b] = ok as [ServerHandle, ServerHandle];
  });

  after(async () => {
    await Promise.all([a, b].filter(Boolean).map((s) => s.stop().catch(() => undefined)));
    await db?.drop();
  });

  test("both publish the same JWKS; each verifies the other's user tokens, over HTTP and with jose", async () => {
    const [jwksA, jwksB] = [await fetchJwks(a.url), await fetchJwks(b.url)];
    assert.deepEqual(jwksA, jwksB);
    const fromA = keep((await userToken(a.url, adminKey)).access_token);
    const fromB = keep((await userToken(b.url, adminKey)).access_token);
    assertUserClaims((await verifyWithJwks(fromA, jwksB)).payload, undefined, 3600);
    assertUserClaims((await verifyWithJwks(fromB, jwksA)).payload, undefined, 3600);
    for (const [label, token, server] of [["A's token on B", fromA, b], ["B's token on A", fromB, a], ["A's token on A", fromA, a], ["B's token on B", fromB, b]] as const) {
      const res = await api(server.url, token).get("/v1/vaults");
      assert.equal(res.status, 200, `${label}: ${res.text}`);
    }
  });

  test("agent tokens cross instances; a value written through A with A's token reads through B with B's", async () => {
    const vault = await makeVault(api(a.url, adminKey), "multi");
    const created = await createAgent(api(b.url, adminKey), { name: "roaming", vault_ids: [vault.id], scopes: ["secrets:read", "secrets:write"] });
    keep(created.api_key);
    await grant(api(a.url, adminKey), vault.id, { type: "agent", id: created.agent.id });
    const tokenA = await agentToken(a.url, created.api_key);
    const tokenB = await agentToken(b.url, created.api_key, created.agent.id);
    keep(tokenA.access_token);
    keep(tokenB.access_token);
    assertAgentClaims((await verifyWithJwks(tokenA.access_token, await fetchJwks(b.url))).payload, created.agent.id, ["secrets:read", "secrets:write"], [vault.id], tokenA.expires_in);

    const value = keep(secretValue("multi"));
    const put = await api(a.url, tokenB.access_token).put(`/v1/vaults/${vault.id}/secrets/cross/one`, { value });
    assert.equal(put.status, 201, put.text);
    const got = await api(b.url, tokenA.access_token).get(`/v1/vaults/${vault.id}/secrets/cross/one`);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.body.value, value);
  });

  test("a user key revoked on A ends, on both instances, the tokens B issued from it (both had verified and remembered them), value reads included", async () => {
    const created = await api(b.url, adminKey).post("/v1/auth/api-keys", { name: "roaming key" });
    assert.equal(created.status, 201, created.text);
    const key = keep(created.body.api_key as string);
    const vault = await makeVault(api(a.url, adminKey), "revocation");
    const value = keep(secretValue("revocation"));
    assert.equal((await api(a.url, adminKey).put(`/v1/vaults/${vault.id}/secrets/revoked/read`, { value })).status, 201);
    const read = `/v1/vaults/${vault.id}/secrets/revoked/read`;
    const fromB = keep((await userToken(b.url, key)).access_token);
    const fromA = keep((await userToken(a.url, key)).access_token);
    // Each instance verifies each token (and remembers its signature as checked) before the revocation.
    for (const server of [a, b]) {
      for (const t of [fromA, fromB]) {
        assert.equal((await api(server.url, t).get("/v1/vaults")).status, 200);
        const got = await api(server.url, t).get(read);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.value, value);
      }
    }
    assert.equal((await api(a.url, adminKey).delete(`/v1/auth/api-keys/${created.body.key.id}`)).status, 204);
    for (const server of [a, b]) {
      const where = server === a ? "on A" : "on B";
      for (const t of [fromA, fromB, key]) {
        assertProblem(await api(server.url, t).get("/v1/vaults"), 401, "unauthorized", undefined, where);
        const refused = await api(server.url, t).get(read);
        assertProblem(refused, 401, "unauthorized", undefined, `value read ${where}`);
        assert.ok(!refused.text.includes(value), where);
      }
    }
  });

  test("deactivating on B, re-keying on A and re-scoping on B apply at once on both instances", async () => {
    const vault1 = await makeVault(api(a.url, adminKey), "scope-1");
    const vault2 = await makeVault(api(a.url, adminKey), "scope-2");
    const created = await createAgent(api(a.url, adminKey), { name: "lifecycle", vault_ids: [vault1.id, vault2.id] });
    keep(created.api_key);
    const id = created.agent.id;
    for (const vault of [vault1, vault2]) await grant(api(b.url, adminKey), vault.id, { type: "agent", id }, ["read"]);
    const tokenA = keep((await agentToken(a.url, created.api_key)).access_token);
    for (const server of [a, b]) assert.equal((await api(server.url, tokenA).get(`/v1/vaults/${vault2.id}`)).status, 200);

    // Re-scope on B: A's token loses vault2 on both instances at once.
    const rescoped = await patch(api(b.url, adminKey), `/v1/agents/${id}`, { vault_ids: [vault1.id] });
    assert.equal(rescoped.status, 200, rescoped.text);
    for (const server of [a, b]) {
      assertProblem(await api(server.url, tokenA).get(`/v1/vaults/${vault2.id}`), 404, "vault_not_found");
      assert.equal((await api(server.url, tokenA).get(`/v1/vaults/${vault1.id}`)).status, 200);
    }

    // Deactivate on B: A's token ends on both; the key exchanges nowhere.
    assert.equal((await patch(api(b.url, adminKey), `/v1/agents/${id}`, { is_active: false })).status, 200);
    for (const server of [a, b]) {
      assertProblem(await api(server.url, tokenA).get("/v1/agents/me"), 401, "unauthorized");
      assertProblem(await api(server.url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized");
    }
    // Reactivate on A: a fresh token from B works, the old one stays dead.
    assert.equal((await patch(api(a.url, adminKey), `/v1/agents/${id}`, { is_active: true })).status, 200);
    const tokenB = keep((await agentToken(b.url, created.api_key)).access_token);
    for (const server of [a, b]) {
      assert.equal((await api(server.url, tokenB).get("/v1/agents/me")).status, 200);
      assertProblem(await api(server.url, tokenA).get("/v1/agents/me"), 401, "unauthorized");
    }

    // Re-key on A: B's token ends on both; the old key is refused by both; B exchanges the new one.
    const rotated = await api(a.url, adminKey).post(`/v1/agents/${id}/rotate-key`);
    assert.equal(rotated.status, 200, rotated.text);
    const newKey = keep(rotated.body.api_key as string);
    for (const server of [a, b]) {
      assertProblem(await api(server.url, tokenB).get("/v1/agents/me"), 401, "unauthorized");
      assertProblem(await api(server.url).post("/v1/auth/agent-token", { api_key: created.api_key }), 401, "unauthorized");
    }
    const fresh = keep((await agentToken(b.url, newKey)).access_token);
    assert.equal((await api(a.url, fresh).get("/v1/agents/me")).status, 200);
  });

  test("the outputs of both instances hold no key and no token", async () => {
    for (const server of [a, b]) {
      await server.stop();
      assertNoLeak(server.output(), sensitive);
    }
  });
});
