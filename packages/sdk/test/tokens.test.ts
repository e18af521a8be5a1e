/**
 * Token handling against a tiny local token server (node:http) that issues tokens with a short lifetime:
 * the exchange finishes before the first request, user and agent tokens are renewed before they expire,
 * concurrent callers share one exchange, a refused token is renewed once, and the mode follows the key.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient, DEFAULT_BASE_URL } from "@shardvault/sdk";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: any;
  at: number;
  status?: number;
}

/** A fake API: token endpoints issuing `tok-N` (expires_in: `ttl`), and `GET /v1/vaults` that checks it. */
function tokenServer() {
  const seen: Seen[] = [];
  const state = { ttl: 2, issued: 0, exchangeDelayMs: 0, revoked: new Set<string>(), validUntil: new Map<string, number>() };
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c));
      req.on("end", () => resolve(text));
    });
  const server: Server = createServer(async (req, res) => {
    const text = await read(req);
    const entry: Seen = { method: req.method!, url: req.url!, authorization: req.headers.authorization, body: text ? JSON.parse(text) : undefined, at: Date.now() };
    seen.push(entry);
    const json = (status: number, body: unknown) => {
      entry.status = status;
      res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.url === "/v1/auth/api-key-token" || req.url === "/v1/auth/agent-token") {
      if (state.exchangeDelayMs) await sleep(state.exchangeDelayMs);
      const key = entry.body?.api_key as string;
      if (!key?.startsWith(req.url.endsWith("agent-token") ? "ocv_" : "1ck_")) {
        return json(401, { type: "about:blank", title: "Unauthorized", status: 401, detail: "invalid API key", code: "unauthorized" });
      }
      const token = `tok-${++state.issued}`;
      state.validUntil.set(token, Date.now() + state.ttl * 1000);
      const extra = req.url.endsWith("agent-token") ? { agent_id: entry.body.agent_id ?? "a-from-key", vault_ids: [] } : {};
      return json(200, { access_token: token, token_type: "Bearer", expires_in: state.ttl, ...extra });
    }
    const token = /^Bearer (.+)$/.exec(entry.authorization ?? "")?.[1];
    const until = token ? state.validUntil.get(token) : undefined;
    if (!token || until === undefined || until < Date.now() || state.revoked.has(token)) {
      return json(401, { type: "about:blank", title: "Unauthorized", status: 401, detail: "token expired or unknown", code: "unauthorized" });
    }
    return json(200, { vaults: [], token });
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
    fake.state.ttl = 2;
    fake.state.exchangeDelayMs = 0;
    fake.state.revoked.clear();
  });
  const exchanges = () => fake.seen.filter((s) => s.url.startsWith("/v1/auth/"));
  const calls = () => fake.seen.filter((s) => !s.url.startsWith("/v1/auth/"));

  test("a user key is exchanged before the first request goes out, which carries the token", async () => {
    const client = createClient({ apiKey: "1ck_test", baseUrl });
    const res = await client.vault.list();
    assert.equal(res.error, null);
    assert.deepEqual(fake.seen.map((s) => s.url), ["/v1/auth/api-key-token", "/v1/vaults"]);
    assert.deepEqual(fake.seen[0]!.body, { api_key: "1ck_test" });
    assert.equal(fake.seen[0]!.authorization, undefined);
    assert.match(fake.seen[1]!.authorization!, /^Bearer tok-\d+$/);
  });

  test("the token is reused while fresh and renewed before it expires (expires_in: 2)", async () => {
    const client = createClient({ apiKey: "1ck_test", baseUrl });
    await client.vault.list();
    await client.vault.list();
    assert.equal(exchanges().length, 1, "a fresh token is reused");
    // Past the refresh point (1 s before expiry for a 2 s token) but before expiry: renewed, never sent stale.
    await sleep(1200);
    const res = await client.vault.list();
    assert.equal(res.error, null);
    assert.equal(exchanges().length, 2);
    const [first, second] = calls().map((c) => c.authorization);
    assert.notEqual(calls().at(-1)!.authorization, first);
    assert.equal(first, second);
    // Every request carried a token that was still valid when it arrived: none was refused.
    assert.deepEqual(calls().map((c) => c.status), [200, 200, 200]);
  });

  test("agent tokens are renewed too; an ocv_ key alone selects agent mode", async () => {
    const client = createClient({ apiKey: "ocv_agentkey", baseUrl });
    assert.equal((await client.vault.list()).error, null);
    assert.equal(exchanges()[0]!.url, "/v1/auth/agent-token");
    assert.deepEqual(exchanges()[0]!.body, { api_key: "ocv_agentkey" });
    assert.equal(client.agentId, "a-from-key", "the agent id the exchange answered");
    await sleep(1200);
    assert.equal((await client.vault.list()).error, null);
    assert.equal(exchanges().length, 2);
    // After the first exchange the learned agent id is sent along.
    assert.deepEqual(exchanges()[1]!.body, { api_key: "ocv_agentkey", agent_id: "a-from-key" });
  });

  test("agentId with an apiKey authenticates as that agent", async () => {
    const client = createClient({ agentId: "agent-1", apiKey: "ocv_k", baseUrl });
    assert.equal((await client.vault.list()).error, null);
    assert.deepEqual(exchanges()[0]!.body, { api_key: "ocv_k", agent_id: "agent-1" });
  });

  test("concurrent requests share one exchange, first and on renewal", async () => {
    fake.state.exchangeDelayMs = 150;
    const client = createClient({ apiKey: "1ck_test", baseUrl });
    const results = await Promise.all(Array.from({ length: 10 }, () => client.vault.list()));
    assert.ok(results.every((r) => r.error === null));
    assert.equal(exchanges().length, 1);
    await sleep(1200);
    const again = await Promise.all(Array.from({ length: 10 }, () => client.vault.list()));
    assert.ok(again.every((r) => r.error === null));
    assert.equal(exchanges().length, 2);
    assert.equal(new Set(calls().slice(10).map((c) => c.authorization)).size, 1);
  });

  test("a 401 on an exchanged token renews it once and retries", async () => {
    fake.state.ttl = 3600;
    const client = createClient({ apiKey: "1ck_test", baseUrl });
    await client.vault.list();
    fake.state.revoked.add(calls()[0]!.authorization!.slice("Bearer ".length));
    const res = await client.vault.list();
    assert.equal(res.error, null);
    assert.equal(exchanges().length, 2);
    assert.equal(calls().length, 3);
  });

  test("a refused exchange is the call's answer: auth_error, 401, no request sent", async () => {
    const client = createClient({ apiKey: "not-a-key", baseUrl });
    const res = await client.vault.list();
    assert.equal(res.data, null);
    assert.equal(res.error?.type, "auth_error");
    assert.equal(res.error?.message, "invalid API key");
    assert.equal(res.error?.code, "unauthorized");
    assert.equal(res.meta.status, 401);
    assert.equal(calls().length, 0);
  });

  test("a ready token is sent as it is and never exchanged", async () => {
    fake.state.ttl = 3600;
    const issuer = createClient({ baseUrl });
    const token = (await issuer.auth.apiKeyToken("1ck_x")).data!.access_token;
    fake.seen.length = 0;
    const client = createClient({ token, baseUrl });
    assert.equal((await client.vault.list()).error, null);
    assert.deepEqual(fake.seen.map((s) => [s.url, s.authorization]), [["/v1/vaults", `Bearer ${token}`]]);
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
