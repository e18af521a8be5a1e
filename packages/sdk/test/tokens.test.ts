/**
 * Token handling against a tiny local token server (node:http) that issues real JWTs (signed with jose, `exp`
 * set), on a clock the test moves by hand and shares with the client (`createClient({ now })`), so no test
 * waits for anything to expire:
 *
 * - the exchange finishes before the first request; a fresh token is reused;
 * - renewal at the refresh margin before expiry (a quarter of the lifetime, at least 1 s, at most 60 s), never
 *   later: every request carries a token the server still accepts;
 * - the JWT's own `exp` caps the lifetime `expires_in` claims (the clamp), and the lifetime counts from when the
 *   exchange started;
 * - concurrent callers share one exchange, first and on renewal; a refused token is renewed once;
 * - an answer without `access_token` and a numeric `expires_in` is an `invalid_token_response`, and nothing is sent;
 * - user and agent modes follow the key.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { jwtVerify, SignJWT } from "jose";
import { createClient, DEFAULT_BASE_URL, type ShardvaultClient } from "@shardvault/sdk";
import { jwtExpiryMs, refreshMarginMs, TokenSource } from "../src/tokens.js";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: any;
  status?: number;
}

/** The shared clock, in ms since the epoch; starts on a whole second. */
const clock = { now: Date.UTC(2030, 0, 1) };
const advance = (ms: number) => void (clock.now += ms);

/**
 * A fake API: token endpoints issuing HS256 JWTs (`exp` = issue time + `jwtLifetimeS`, `expires_in`: `ttl`), and
 * `GET /v1/vaults`, which verifies the bearer token against the shared clock.
 */
function tokenServer() {
  const key = randomBytes(32);
  const seen: Seen[] = [];
  const state = {
    ttl: 120,
    /** The JWT's own lifetime (`exp - iat`); the same as `ttl` unless a test says otherwise. */
    jwtLifetimeS: undefined as number | undefined,
    issued: 0,
    /** Clock time the exchange takes (the clock moves while the server answers). */
    exchangeTakesMs: 0,
    /** While set, exchanges wait for it. */
    hold: undefined as Promise<void> | undefined,
    /** Replaces the exchange's answer body. */
    answer: undefined as unknown,
    revoked: new Set<string>(),
  };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c));
      req.on("end", () => resolve(text));
    });
  const server: Server = createServer(async (req, res) => {
    const text = await read(req);
    const entry: Seen = { method: req.method!, url: req.url!, authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined };
    seen.push(entry);
    const json = (status: number, body: unknown) => {
      entry.status = status;
      res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json" });
      res.end(JSON.stringify(body));
    };
    const refuse = (detail: string) => json(401, { type: "about:blank", title: "Unauthorized", status: 401, detail, code: "unauthorized" });
    if (req.url === "/v1/auth/api-key-token" || req.url === "/v1/auth/agent-token") {
      await state.hold;
      const agent = req.url.endsWith("agent-token");
      const apiKey = entry.body?.api_key as string;
      if (!apiKey?.startsWith(agent ? "ocv_" : "1ck_")) return refuse("invalid API key");
      const iat = Math.floor(clock.now / 1000);
      advance(state.exchangeTakesMs);
      if (state.answer !== undefined) return json(200, state.answer);
      const token = await new SignJWT({ n: ++state.issued })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(agent ? "agent" : "user")
        .setIssuedAt(iat)
        .setExpirationTime(iat + (state.jwtLifetimeS ?? state.ttl))
        .sign(key);
      const extra = agent ? { agent_id: entry.body.agent_id ?? "a-from-key", vault_ids: [] } : {};
      return json(200, { access_token: token, token_type: "Bearer", expires_in: state.ttl, ...extra });
    }
    const token = /^Bearer (.+)$/.exec(entry.authorization ?? "")?.[1];
    if (!token || state.revoked.has(token)) return refuse("token unknown or revoked");
    try {
      await jwtVerify(token, key, { currentDate: new Date(clock.now) });
    } catch {
      return refuse("token expired or invalid");
    }
    return json(200, { vaults: [] });
  });
  return { server, seen, state };
}

describe("tokens", () => {
  let fake: ReturnType<typeof tokenServer>;
  let baseUrl: string;
  before(async () => {
    fake = tokenServer();
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => fake.server.close(() => resolve())));
  beforeEach(() => {
    fake.seen.length = 0;
    Object.assign(fake.state, { ttl: 120, jwtLifetimeS: undefined, exchangeTakesMs: 0, hold: undefined, answer: undefined });
    fake.state.revoked.clear();
  });
  const exchanges = () => fake.seen.filter((s) => s.url.startsWith("/v1/auth/"));
  const calls = () => fake.seen.filter((s) => !s.url.startsWith("/v1/auth/"));
  const client = (options: Parameters<typeof createClient>[0]) => createClient({ baseUrl, now: () => clock.now, ...options });
  /** Lists vaults and asserts the request was answered (its token accepted). */
  const list = async (c: ShardvaultClient, context = "") => {
    const res = await c.vault.list();
    assert.equal(res.error, null, `${context}: ${JSON.stringify(res.error)}`);
  };

  test("a user key is exchanged before the first request goes out, which carries the token", async () => {
    const c = client({ apiKey: "1ck_test" });
    await list(c);
    assert.deepEqual(fake.seen.map((s) => s.url), ["/v1/auth/api-key-token", "/v1/vaults"]);
    assert.deepEqual(fake.seen[0]!.body, { api_key: "1ck_test" });
    assert.equal(fake.seen[0]!.authorization, undefined);
    assert.match(fake.seen[1]!.authorization!, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test("the token is reused while fresh and renewed at the refresh margin before it expires, never sent stale", async () => {
    const c = client({ apiKey: "1ck_test" });
    const start = clock.now;
    await list(c);
    await list(c);
    assert.equal(exchanges().length, 1, "a fresh token is reused");
    // 120 s lifetime: refreshed 30 s (a quarter) before expiry, at 90 s.
    advance(start + 89_999 - clock.now);
    await list(c, "at 89.999 s");
    assert.equal(exchanges().length, 1, "renewed before the margin");
    advance(1);
    await list(c, "at 90 s");
    assert.equal(exchanges().length, 2, "not renewed at the margin");
    const [first, second, third, fourth] = calls().map((x) => x.authorization);
    assert.equal(first, second);
    assert.equal(first, third);
    assert.notEqual(fourth, first);
    assert.deepEqual(calls().map((x) => x.status), [200, 200, 200, 200], "a request carried a token the server refused");
  });

  test("the refresh margin is a quarter of the lifetime, at least 1 s and at most 60 s", async () => {
    for (const [lifetimeS, marginS] of [[2, 1], [3, 1], [8, 2], [120, 30], [240, 60], [3600, 60]] as const) {
      assert.equal(refreshMarginMs(lifetimeS * 1000), marginS * 1000, `lifetime ${lifetimeS} s`);
      fake.state.ttl = lifetimeS;
      const c = client({ apiKey: "1ck_test" });
      const start = clock.now;
      const before = exchanges().length;
      await list(c, `lifetime ${lifetimeS} s`);
      advance(start + (lifetimeS - marginS) * 1000 - 1 - clock.now);
      await list(c, `lifetime ${lifetimeS} s, 1 ms before the margin`);
      assert.equal(exchanges().length, before + 1, `lifetime ${lifetimeS} s: renewed before its margin of ${marginS} s`);
      advance(1);
      await list(c, `lifetime ${lifetimeS} s, at the margin`);
      assert.equal(exchanges().length, before + 2, `lifetime ${lifetimeS} s: not renewed ${marginS} s before expiry`);
    }
  });

  test("the JWT's exp caps the lifetime expires_in claims: renewed before the token itself runs out", async () => {
    fake.state.ttl = 3600;
    fake.state.jwtLifetimeS = 120; // the token says 120 s, the answer says an hour
    const c = client({ apiKey: "1ck_test" });
    const start = clock.now;
    await list(c);
    // Expiry from exp (120 s), margin from the answered lifetime (3600 s: 60 s): renewal due at 60 s.
    advance(start + 59_999 - clock.now);
    await list(c, "at 59.999 s");
    assert.equal(exchanges().length, 1);
    advance(1);
    await list(c, "at 60 s");
    assert.equal(exchanges().length, 2, "the token's own exp was not honoured");
    assert.ok(calls().every((x) => x.status === 200), "a request went out with a token past its exp");
  });

  test("expires_in caps a JWT whose exp is later", async () => {
    fake.state.ttl = 120;
    fake.state.jwtLifetimeS = 3600;
    const c = client({ apiKey: "1ck_test" });
    const start = clock.now;
    await list(c);
    advance(start + 89_999 - clock.now);
    await list(c);
    assert.equal(exchanges().length, 1);
    advance(1);
    await list(c);
    assert.equal(exchanges().length, 2);
  });

  test("the lifetime counts from when the exchange started, not from its answer", async () => {
    fake.state.exchangeTakesMs = 10_000;
    fake.state.jwtLifetimeS = 3600; // the JWT's exp out of the way: expires_in alone decides
    const c = client({ apiKey: "1ck_test" });
    const start = clock.now;
    await list(c);
    assert.equal(clock.now, start + 10_000);
    advance(start + 89_999 - clock.now);
    await list(c);
    assert.equal(exchanges().length, 1);
    advance(1);
    fake.state.exchangeTakesMs = 0;
    await list(c);
    assert.equal(exchanges().length, 2, "the lifetime was counted from the answer (renewal due at 100 s)");
  });

  test("agent tokens are renewed too; an ocv_ key alone selects agent mode", async () => {
    const c = client({ apiKey: "ocv_agentkey" });
    await list(c);
    assert.equal(exchanges()[0]!.url, "/v1/auth/agent-token");
    assert.deepEqual(exchanges()[0]!.body, { api_key: "ocv_agentkey" });
    assert.equal(c.agentId, "a-from-key", "the agent id the exchange answered");
    advance(90_000);
    await list(c);
    assert.equal(exchanges().length, 2);
    // After the first exchange the learned agent id is sent along.
    assert.deepEqual(exchanges()[1]!.body, { api_key: "ocv_agentkey", agent_id: "a-from-key" });
  });

  test("agentId with an apiKey authenticates as that agent", async () => {
    await list(client({ agentId: "agent-1", apiKey: "ocv_k" }));
    assert.deepEqual(exchanges()[0]!.body, { api_key: "ocv_k", agent_id: "agent-1" });
  });

  test("concurrent requests share one exchange, first and on renewal", async () => {
    const c = client({ apiKey: "1ck_test" });
    for (const round of ["first", "renewal"]) {
      let release!: () => void;
      fake.state.hold = new Promise<void>((resolve) => (release = resolve));
      const before = exchanges().length;
      const pending = Promise.all(Array.from({ length: 10 }, () => c.vault.list()));
      // The exchange is on its way (held at the server) while the ten wait for it.
      for (let i = 0; exchanges().length === before; i++) {
        if (i > 10_000) assert.fail(`${round}: no exchange was made`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      release();
      const results = await pending;
      assert.ok(results.every((r) => r.error === null), round);
      assert.equal(exchanges().length, before + 1, `${round}: one exchange for ten callers`);
      assert.equal(new Set(calls().slice(-10).map((x) => x.authorization)).size, 1, round);
      advance(90_000);
    }
  });

  test("a 401 on an exchanged token renews it once and retries", async () => {
    const c = client({ apiKey: "1ck_test" });
    await list(c);
    fake.state.revoked.add(calls()[0]!.authorization!.slice("Bearer ".length));
    await list(c);
    assert.equal(exchanges().length, 2);
    assert.deepEqual(calls().map((x) => x.status), [200, 401, 200]);
  });

  test("a refused exchange is the call's answer: auth_error, 401, no request sent", async () => {
    const res = await client({ apiKey: "not-a-key" }).vault.list();
    assert.equal(res.data, null);
    assert.equal(res.error?.type, "auth_error");
    assert.equal(res.error?.message, "invalid API key");
    assert.equal(res.error?.code, "unauthorized");
    assert.equal(res.meta.status, 401);
    assert.equal(calls().length, 0);
  });

  test("an exchange answer without access_token or a numeric expires_in is invalid_token_response, and nothing is sent", async () => {
    const answers = [{ token_type: "Bearer", expires_in: 60 }, { access_token: "a.b.c", token_type: "Bearer" }, { access_token: "a.b.c", expires_in: "60" }, {}];
    for (const answer of answers) {
      fake.state.answer = answer;
      const res = await client({ apiKey: "1ck_test" }).vault.list();
      assert.equal(res.data, null, JSON.stringify(answer));
      assert.equal(res.error?.type, "server_error", JSON.stringify(answer));
      assert.equal(res.error?.code, "invalid_token_response", JSON.stringify(answer));
      assert.equal(res.meta.status, 200);
    }
    assert.equal(calls().length, 0, "a request went out without a usable token");
  });

  test("a token that is not a JWT lives for expires_in (the token source on its own)", async () => {
    let exchanged = 0;
    const source = new TokenSource(
      { kind: "user", apiKey: "1ck_test" },
      async () => ({ data: { access_token: `opaque-${++exchanged}`, token_type: "Bearer", expires_in: 120 }, error: null, meta: { status: 200 } }),
      () => clock.now,
    );
    const start = clock.now;
    assert.equal((await source.get()).token, "opaque-1");
    advance(start + 89_999 - clock.now);
    assert.equal((await source.get()).token, "opaque-1");
    advance(1);
    assert.equal((await source.get()).token, "opaque-2");
  });

  test("jwtExpiryMs reads exp from a JWT's payload and nothing else", async () => {
    const key = randomBytes(32);
    const exp = Math.floor(clock.now / 1000) + 300;
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setExpirationTime(exp).sign(key);
    assert.equal(jwtExpiryMs(jwt), exp * 1000);
    const encode = (payload: string) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(payload).toString("base64url")}.sig`;
    assert.equal(jwtExpiryMs(encode('{"exp":"300"}')), undefined, "exp as a string");
    assert.equal(jwtExpiryMs(encode("{}")), undefined, "no exp");
    assert.equal(jwtExpiryMs(encode("not json")), undefined);
    assert.equal(jwtExpiryMs("opaque-token"), undefined);
    assert.equal(jwtExpiryMs("a.!!!.c"), undefined);
  });

  test("a ready token is sent as it is and never exchanged", async () => {
    fake.state.ttl = 3600;
    const token = (await client({}).auth.apiKeyToken("1ck_x")).data!.access_token;
    fake.seen.length = 0;
    await list(client({ token }));
    advance(7200_000);
    await client({ token }).vault.list();
    assert.deepEqual(fake.seen.map((s) => [s.url, s.authorization]), [
      ["/v1/vaults", `Bearer ${token}`],
      ["/v1/vaults", `Bearer ${token}`],
    ]);
  });

  test("baseUrl defaults to SHARDVAULT_URL, else http://127.0.0.1:8787", () => {
    const saved = process.env.SHARDVAULT_URL;
    try {
      process.env.SHARDVAULT_URL = "http://example.test:1234/";
      assert.equal(createClient({}).baseUrl, "http://example.test:1234");
      delete process.env.SHARDVAULT_URL;
      assert.equal(createClient({}).baseUrl, "http://127.0.0.1:8787");
      assert.equal(DEFAULT_BASE_URL, "http://127.0.0.1:8787");
      assert.equal(createClient({ baseUrl: "http://other:1" }).baseUrl, "http://other:1");
    } finally {
      if (saved === undefined) delete process.env.SHARDVAULT_URL;
      else process.env.SHARDVAULT_URL = saved;
    }
  });
});
