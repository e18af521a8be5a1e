/**
 * Rate limits as a client meets them: per client address on token exchange, sign-in and invitation
 * acceptance and share openings; per principal on writes when set (off by default; reads never count); 429 `rate_limited` in the problem shape with
 * `Retry-After`; limits from the configuration file; counted together by every instance on one PostgreSQL;
 * `trust_proxy` deciding whose address counts. A route opts into a named limit with
 * `config: { rateLimited: name }` (share creation uses `share_creation`, per organization: shares.test.ts).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Fastify from "fastify";
import type { Principal } from "../src/auth/principal.js";
import { DEFAULT_RATE_LIMITS } from "../src/config/rate-limits.js";
import { sendProblem } from "../src/http/problem.js";
import { registerRateLimits } from "../src/http/rate-limits.js";
import { AppError } from "../src/errors.js";
import { api, assertProblem, expectStartFailure, makeTempDir, startServer, type ApiResponse, type ServerHandle } from "./support/harness.js";
import { createTestDatabase, postgresSkipReason, type TestDatabase } from "./support/postgres.js";

function configFile(settings: Record<string, unknown>): string {
  const dir = makeTempDir("shardvault-limits-");
  const file = join(dir, "shardvault.json");
  writeFileSync(file, JSON.stringify({ providers: { dev: { backend: "local", key_file: "dev.key" } }, ...settings }));
  return file;
}

function assertRateLimited(res: ApiResponse, what: RegExp): void {
  assertProblem(res, 429, "rate_limited", what);
  const retryAfter = Number(res.headers.get("retry-after"));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get("retry-after")}`);
}

const limits = {
  token_exchange: { max: 3, window_seconds: 60 },
  sign_in: { max: 2, window_seconds: 60 },
  invite_acceptance: { max: 2, window_seconds: 60 },
  writes: { max: 5, window_seconds: 60 },
  share_opening: { max: 3, window_seconds: 60 },
};

describe("rate limits on one instance (PGlite)", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite", env: { SHARDVAULT_CONFIG: configFile({ rate_limits: limits }) } });
  });
  after(async () => {
    await server?.stop();
  });

  test("token exchange: per client address, refused keys counted too", async () => {
    const anonymous = api(server.url);
    assert.equal((await anonymous.post("/v1/auth/api-key-token", { api_key: server.adminKey })).status, 200);
    assert.equal((await anonymous.post("/v1/auth/agent-token", { api_key: "ocv_" + "x".repeat(43) })).status, 401);
    assert.equal((await anonymous.post("/v1/auth/api-key-token", { api_key: server.adminKey })).status, 200);
    assertRateLimited(await anonymous.post("/v1/auth/api-key-token", { api_key: server.adminKey }), /too many token exchanges: at most 3 per 60 s per client address/);
    assertRateLimited(await anonymous.post("/v1/auth/agent-token", { api_key: "ocv_" + "x".repeat(43) }), /token exchanges/);
  });

  test("sign-in and invitation acceptance: per client address", async () => {
    const anonymous = api(server.url);
    for (let i = 0; i < 2; i++) assert.equal((await anonymous.post("/v1/auth/token", { email: "nobody@example.com", password: "not the password" })).status, 401);
    assertRateLimited(await anonymous.post("/v1/auth/token", { email: "nobody@example.com", password: "not the password" }), /too many sign-ins/);
    const accept = { invite_token: "svi_" + "x".repeat(43), password: "a long enough password" };
    for (let i = 0; i < 2; i++) assert.notEqual((await anonymous.post("/v1/auth/accept-invite", accept)).status, 429);
    assertRateLimited(await anonymous.post("/v1/auth/accept-invite", accept), /too many invitation acceptances/);
  });

  test("share openings: per client address, refused openings (unknown shares) counted too", async () => {
    const anonymous = api(server.url);
    const unknown = "/v1/share/00000000-0000-4000-8000-000000000000";
    for (let i = 0; i < 3; i++) assertProblem(await anonymous.get(unknown), 404, "share_not_found");
    assertRateLimited(await anonymous.get(unknown), /too many share openings: at most 3 per 60 s per client address/);
  });

  test("writes: per principal; reads never count; another principal has its own count", async () => {
    const admin = api(server.url, server.adminKey);
    const vault = await admin.post("/v1/vaults", { name: "limits" }); // write 1
    assert.equal(vault.status, 201);
    const agent = await admin.post("/v1/agents", { name: "writer", scopes: ["secrets:write", "secrets:read"] }); // write 2
    assert.equal(agent.status, 201);
    const policy = await admin.post(`/v1/vaults/${vault.body.id}/policies`, { secret_path_pattern: "**", principal_type: "agent", principal_id: agent.body.agent.id, permissions: ["read", "write"] }); // 3
    assert.equal(policy.status, 201);
    for (let i = 0; i < 2; i++) assert.equal((await admin.put(`/v1/vaults/${vault.body.id}/secrets/a`, { value: `v${i}` })).status, 201); // 4, 5
    for (let i = 0; i < 10; i++) assert.equal((await admin.get(`/v1/vaults/${vault.body.id}/secrets/a`)).status, 200);
    assertRateLimited(await admin.put(`/v1/vaults/${vault.body.id}/secrets/a`, { value: "sixth" }), /too many writes: at most 5 per 60 s per principal/);
    assertRateLimited(await admin.call("DELETE", `/v1/vaults/${vault.body.id}/secrets/a`), /too many writes/);
    assert.equal((await admin.get(`/v1/vaults/${vault.body.id}/secrets/a`)).body.value, "v1", "the refused write wrote nothing");

    const exchanged = await api(server.url).post("/v1/auth/agent-token", { api_key: agent.body.api_key, agent_id: agent.body.agent.id });
    // The exchanges of the test above used this address's budget already.
    assert.equal(exchanged.status, 429, "token exchanges are still limited");
  });
});

describe("rate limits shared by two instances on one PostgreSQL", { skip: await postgresSkipReason() }, () => {
  let database: TestDatabase;
  const servers: ServerHandle[] = [];
  before(async () => {
    database = await createTestDatabase("limits");
    const config = configFile({ rate_limits: { token_exchange: { max: 4, window_seconds: 60 }, writes: { max: 6, window_seconds: 60 } } });
    const keysDir = makeTempDir("shardvault-limit-keys-");
    const env = { SHARDVAULT_CONFIG: config, SHARDVAULT_KEYS_DIR: keysDir };
    servers.push(await startServer({ database: "postgres", databaseUrl: database.url, env }));
    servers.push(await startServer({ database: "postgres", databaseUrl: database.url, env, adminKey: servers[0]!.adminKey }));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await database?.drop();
  });

  test("token exchanges at either instance count together: the fifth is 429 wherever it lands", async () => {
    const [a, b] = servers as [ServerHandle, ServerHandle];
    const exchange = (s: ServerHandle) => api(s.url).post("/v1/auth/api-key-token", { api_key: a.adminKey });
    for (const s of [a, b, a, b]) assert.equal((await exchange(s)).status, 200, s.url);
    assertRateLimited(await exchange(a), /token exchanges/);
    assertRateLimited(await exchange(b), /token exchanges/);
  });

  test("one principal's writes at both instances count together", async () => {
    const [a, b] = servers.map((s) => api(s.url, s.adminKey)) as [ReturnType<typeof api>, ReturnType<typeof api>];
    const vault = await a.post("/v1/vaults", { name: "shared" });
    assert.equal(vault.status, 201);
    for (const [i, client] of [b, a, b, a, b].entries()) assert.equal((await client.put(`/v1/vaults/${vault.body.id}/secrets/s`, { value: `v${i}` })).status, 201);
    assertRateLimited(await a.put(`/v1/vaults/${vault.body.id}/secrets/s`, { value: "over" }), /writes/);
    assertRateLimited(await b.put(`/v1/vaults/${vault.body.id}/secrets/s`, { value: "over" }), /writes/);
  });
});

describe("trust_proxy: whose address counts", () => {
  const settings = { rate_limits: { sign_in: { max: 1, window_seconds: 60 } } };
  const signIn = (server: ServerHandle, forwardedFor: string) =>
    api(server.url).post("/v1/auth/token", { email: "x@example.com", password: "not the password" }, { headers: { "x-forwarded-for": forwardedFor } });

  test("behind a trusted proxy each forwarded client has its own count", async () => {
    const server = await startServer({ database: "pglite", env: { SHARDVAULT_CONFIG: configFile({ ...settings, trust_proxy: ["127.0.0.1"] }) } });
    try {
      assert.equal((await signIn(server, "198.51.100.1")).status, 401);
      assert.equal((await signIn(server, "198.51.100.2")).status, 401);
      assertRateLimited(await signIn(server, "198.51.100.1"), /sign-ins/);
    } finally {
      await server.stop();
    }
  });

  test("without trust_proxy X-Forwarded-For is ignored: a client cannot pick a fresh address", async () => {
    const server = await startServer({ database: "pglite", env: { SHARDVAULT_CONFIG: configFile(settings) } });
    try {
      assert.equal((await signIn(server, "198.51.100.1")).status, 401);
      assertRateLimited(await signIn(server, "198.51.100.2"), /sign-ins/);
    } finally {
      await server.stop();
    }
  });
});

describe("rate limit configuration", () => {
  test("an unknown limit, a bad number or a bad trust_proxy stops start-up, naming it", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ rate_limits: { reads: { max: 1 } } }, /unknown rate limit "reads" \(known: token_exchange, sign_in, invite_acceptance, writes, share_creation, share_opening\)/],
      [{ rate_limits: { writes: { max: 0 } } }, /rate_limits\.writes\.max must be a positive integer/],
      [{ rate_limits: { writes: { max: 5, per: "ip" } } }, /rate_limits\.writes: unknown key "per"/],
      [{ trust_proxy: ["not-an-address"] }, /"trust_proxy" must be true, false, or a list of proxy addresses and CIDRs/],
      [{ trust_proxy: ["10.0.0.0/33"] }, /"trust_proxy" must be/],
    ];
    for (const [settings, message] of cases) {
      const failure = await expectStartFailure({ database: "pglite", env: { SHARDVAULT_CONFIG: configFile(settings) } });
      assert.match(failure.output, message);
    }
  });

  test("the defaults leave a trusted client's writes unlimited, and limit sign-in, token exchange and share links", () => {
    assert.equal(DEFAULT_RATE_LIMITS.writes, null);
    assert.deepEqual(DEFAULT_RATE_LIMITS.share_creation, { max: 10, windowSeconds: 60 });
    assert.deepEqual(DEFAULT_RATE_LIMITS.share_opening, { max: 60, windowSeconds: 60 });
    assert.ok(DEFAULT_RATE_LIMITS.token_exchange!.max <= 600);
    assert.ok(DEFAULT_RATE_LIMITS.sign_in!.max <= 60);
  });
});

describe("a route's named limit (config.rateLimited)", () => {
  const principal = (orgId: string): Principal => ({ type: "user", id: `user-of-${orgId}`, orgId, scopes: [] });

  async function appWith(route: { rateLimited: string }) {
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => sendProblem(reply, error instanceof AppError ? error : new AppError(500, "internal_error", "internal")));
    app.decorateRequest("principal", undefined);
    app.addHook("onRequest", async (request) => {
      request.principal = principal(String(request.headers["x-org"]));
    });
    registerRateLimits(app, { ...DEFAULT_RATE_LIMITS, share_creation: { max: 2, windowSeconds: 60 }, writes: null }, undefined);
    app.post("/v1/secrets/:id/share", { config: route as { rateLimited: "share_creation" } }, async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  test("share_creation counts per organization", async () => {
    const app = await appWith({ rateLimited: "share_creation" });
    const share = (org: string) => app.inject({ method: "POST", url: "/v1/secrets/s/share", headers: { "x-org": org } });
    assert.equal((await share("org-a")).statusCode, 200);
    assert.equal((await share("org-a")).statusCode, 200);
    const refused = await share("org-a");
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().code, "rate_limited");
    assert.match(refused.json().detail, /too many shares created: at most 2 per 60 s per organization/);
    assert.ok(Number(refused.headers["retry-after"]) >= 1);
    assert.equal((await share("org-b")).statusCode, 200, "another organization has its own count");
    await app.close();
  });

  test("a route naming an unknown limit stops the app from starting", async () => {
    await assert.rejects(appWith({ rateLimited: "share_creations" }), /names an unknown rate limit "share_creations"/);
  });
});
