/**
 * Tokens and user API keys over real HTTP, on the embedded database (PGlite) and on PostgreSQL:
 *
 * - `POST /v1/auth/api-key-token` and `POST /v1/auth/agent-token` answer `{access_token, token_type: "Bearer",
 *   expires_in}` (agent answers add `agent_id`, `vault_ids`); the agent is resolved from its key alone, and a
 *   given `agent_id` must match; the raw `1ck_` key works as a bearer too;
 * - the JWTs are EdDSA and verify with `jose` against `GET /.well-known/jwks.json` (which publishes no private
 *   part): `sub` `user:<uuid>` / `agent:<uuid>`, `org`, agent tokens `scopes` and `vault_ids`, `exp - iat` =
 *   `expires_in`;
 * - user API keys: `POST/GET/DELETE /v1/auth/api-keys` (full key once, listed by `key_prefix`, never the key or
 *   its hash; `scopes` stored and echoed, enforced by the access tests); revoking a key ends every JWT issued from it on its
 *   next request, the raw key and its exchange too; an expired key does not authenticate;
 * - `GET /v1/health/hsm`: `{status}` without a token, with a bad token and with an agent token; per-slot detail
 *   (slot, backend, status, last_latency_ms) with a user token (JWT or raw key);
 * - bad input on these routes is a 4xx problem, never a 5xx: non-string / missing / oversize keys, bad JSON,
 *   garbage bearers, `alg: none`, HS256 signed with the public key's bytes, tampered payloads, foreign keys;
 * - the server's output holds no key and no token.
 */
import assert from "node:assert/strict";
import { createHash, createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, expiringSoon, rawRequest, UUID, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import {
  agentToken,
  assertAgentClaims,
  assertUserClaims,
  b64u,
  createAgent,
  fetchJwks,
  makeVault,
  mintToken,
  unsignedJwt,
  userToken,
  verifyWithJwks,
} from "./support/auth-support.js";

const KEY_FIELDS = ["created_at", "expires_at", "id", "is_active", "key_prefix", "last_used_at", "name", "scopes"];

for (const kind of DATABASE_KINDS) {
  describe(`auth-tokens on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let adminUserId: string;
    let vaultId: string;
    /** Keys and tokens this suite handled: none may appear in the server's output. */
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);

    before(async () => {
      deployment = await deploy(kind);
      url = deployment.server.url;
      keep(deployment.server.adminKey);
      admin = api(url, deployment.server.adminKey);
      const vault = await makeVault(admin, "auth-tokens");
      vaultId = vault.id;
      adminUserId = vault.created_by;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("api-key-token: {access_token, token_type Bearer, expires_in}; an EdDSA JWT the JWKS verifies", async () => {
      const res = await api(url).post("/v1/auth/api-key-token", { api_key: deployment.server.adminKey });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ["access_token", "expires_in", "token_type"]);
      assert.equal(res.body.token_type, "Bearer");
      assert.ok(Number.isInteger(res.body.expires_in) && res.body.expires_in > 0, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const token = keep(res.body.access_token as string);

      const jwks = await fetchJwks(url);
      const { payload, protectedHeader } = await verifyWithJwks(token, jwks);
      assert.equal(protectedHeader.alg, "EdDSA");
      assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid), "the token's kid is in the JWKS");
      assertUserClaims(payload, adminUserId, res.body.expires_in);
      assert.equal(payload.iss, "shardvault");

      // The token is a bearer; so is the raw key.
      for (const bearer of [token, deployment.server.adminKey]) {
        const vaults = await api(url, bearer).get("/v1/vaults");
        assert.equal(vaults.status, 200, vaults.text);
        assert.ok(vaults.body.vaults.some((v: { id: string }) => v.id === vaultId));
      }
      // The scheme name is case-insensitive (RFC 7235).
      const lower = await rawRequest(url, { method: "GET", path: "/v1/vaults", headers: { authorization: `bearer ${token}` } });
      assert.equal(lower.status, 200, lower.text);
    });

    test("agent-token with api_key alone resolves the agent; with agent_id it must match; claims verify", async () => {
      const scopes = ["secrets:read", "vaults:read"];
      const created = await createAgent(admin, { name: "token-agent", scopes, vault_ids: [vaultId], token_ttl_seconds: 120 });
      keep(created.api_key);
      assert.match(created.api_key, /^ocv_[A-Za-z0-9_-]{43}$/);

      const res = await api(url).post("/v1/auth/agent-token", { api_key: created.api_key });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.body).sort(), ["access_token", "agent_id", "expires_in", "token_type", "vault_ids"]);
      assert.equal(res.body.token_type, "Bearer");
      assert.equal(res.body.expires_in, 120);
      assert.equal(res.body.agent_id, created.agent.id);
      assert.deepEqual(res.body.vault_ids, [vaultId]);
      assert.equal(res.headers.get("cache-control"), "no-store");
      const token = keep(res.body.access_token as string);

      const jwks = await fetchJwks(url);
      const { payload } = await verifyWithJwks(token, jwks);
      assertAgentClaims(payload, created.agent.id, scopes, [vaultId], 120);
      // Same organization as the admin's token.
      const user = keep((await userToken(url, deployment.server.adminKey)).access_token);
      assert.equal(payload.org, (await verifyWithJwks(user, jwks)).payload.org);

      const me = await api(url, token).get("/v1/agents/me");
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.id, created.agent.id);

      // With the matching agent_id: fine (1claw's SDK sends none, others may).
      const withId = await agentToken(url, created.api_key, created.agent.id);
      keep(withId.access_token);
      assert.equal(withId.agent_id, created.agent.id);
      // Any other id is refused, whether another agent's, unknown or malformed.
      const other = await createAgent(admin, { name: "other-agent" });
      keep(other.api_key);
      for (const agentId of [randomUUID(), other.agent.id, "not-a-uuid", ""]) {
        const refused = await api(url).post("/v1/auth/agent-token", { api_key: created.api_key, agent_id: agentId });
        assertProblem(refused, 401, "unauthorized", undefined, `agent_id ${agentId}`);
      }

      // Without token_ttl_seconds the default applies, and it is announced.
      const plain = await agentToken(url, other.api_key);
      keep(plain.access_token);
      assert.ok(Number.isInteger(plain.expires_in) && plain.expires_in > 0);
      assert.deepEqual(plain.vault_ids, []);
      assertAgentClaims((await verifyWithJwks(plain.access_token, jwks)).payload, other.agent.id, [], [], plain.expires_in);

      // Keys are not interchangeable between the two exchanges, and neither is a token.
      assertProblem(await api(url).post("/v1/auth/api-key-token", { api_key: created.api_key }), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/agent-token", { api_key: deployment.server.adminKey }), 401, "unauthorized");
      // A JWT is no API key (tokens may exceed the key length limit: 400, otherwise 401).
      for (const [path, jwt] of [["/v1/auth/api-key-token", user], ["/v1/auth/agent-token", token]] as const) {
        const res = await api(url).post(path, { api_key: jwt });
        assertProblem(res, res.status === 400 ? 400 : 401, res.status === 400 ? "validation_error" : "unauthorized", undefined, `${path} with a JWT`);
      }
      // An agent key is not a bearer by itself: it is exchanged first.
      assertProblem(await api(url, created.api_key).get("/v1/vaults"), 401, "unauthorized");
    });

    test("agent-token: agent_id is a UUID, matched in any letter case, like every other id of the API", async () => {
      const created = await createAgent(admin, { name: "case-agent" });
      keep(created.api_key);
      // Other routes take the id in upper case (PostgreSQL compares uuids, not text).
      const got = await admin.get(`/v1/agents/${created.agent.id.toUpperCase()}`);
      assert.equal(got.status, 200, got.text);
      const res = await api(url).post("/v1/auth/agent-token", { api_key: created.api_key, agent_id: created.agent.id.toUpperCase() });
      assert.equal(res.status, 200, `agent-token with the agent's id in upper case: ${res.text}`);
      keep(res.body.access_token);
      assert.equal(res.body.agent_id, created.agent.id);
    });

    test("user API keys: created once in full, listed by prefix, never the key or its hash; scopes echoed", async () => {
      const expiresAt = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString();
      const res = await admin.post("/v1/auth/api-keys", { name: "ci key", scopes: ["vaults:read", "secrets:read"], expires_at: expiresAt });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get("cache-control"), "no-store");
      assert.deepEqual(Object.keys(res.body).sort(), ["api_key", "key"]);
      const key = keep(res.body.api_key as string);
      assert.match(key, /^1ck_[A-Za-z0-9_-]{43}$/);
      const view = res.body.key;
      assert.deepEqual(Object.keys(view).sort(), KEY_FIELDS);
      assert.match(view.id, UUID);
      assert.equal(view.name, "ci key");
      assert.deepEqual(view.scopes, ["vaults:read", "secrets:read"]);
      assert.equal(view.is_active, true);
      assert.equal(view.expires_at, expiresAt);
      assert.equal(view.last_used_at, null);
      assert.ok(key.startsWith(view.key_prefix) && view.key_prefix.length >= 4 && view.key_prefix.length < key.length, view.key_prefix);

      // Scopes are stored and echoed, but not enforced: the key may do what its user may.
      const asKey = api(url, key);
      assert.equal((await asKey.get(`/v1/vaults/${vaultId}`)).status, 200);
      const token = keep((await userToken(url, key)).access_token);
      const jwks = await fetchJwks(url);
      assertUserClaims((await verifyWithJwks(token, jwks)).payload, adminUserId, 3600);

      const list = await admin.get("/v1/auth/api-keys");
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(Object.keys(list.body), ["keys"]);
      assert.ok(Array.isArray(list.body.keys));
      const listed = list.body.keys.find((k: { id: string }) => k.id === view.id);
      assert.ok(listed, "the new key is listed");
      assert.deepEqual(Object.keys(listed).sort(), KEY_FIELDS);
      assert.deepEqual({ ...listed, last_used_at: null }, view);
      assert.ok(listed.last_used_at !== null && !Number.isNaN(Date.parse(listed.last_used_at)), "the exchange set last_used_at");
      // The bootstrap key is there too, and no listing holds a key or a hash of one.
      assert.ok(list.body.keys.some((k: { key_prefix: string }) => deployment.server.adminKey.startsWith(k.key_prefix)));
      for (const k of list.body.keys) assert.deepEqual(Object.keys(k).sort(), KEY_FIELDS);
      for (const full of [key, deployment.server.adminKey]) {
        const hash = createHash("sha256").update(full).digest();
        for (const form of [full, full.slice(12), hash.toString("hex"), hash.toString("base64"), hash.toString("base64url")]) {
          assert.ok(!list.text.includes(form), "the key listing holds a key or its hash");
        }
      }
    });

    test("revoking a user key ends every JWT issued from it on its next request, the raw key and its exchange too", async () => {
      const created = await admin.post("/v1/auth/api-keys", { name: "to revoke" });
      assert.equal(created.status, 201, created.text);
      const key = keep(created.body.api_key as string);
      const keyId = created.body.key.id as string;
      const tokens = [keep((await userToken(url, key)).access_token), keep((await userToken(url, key)).access_token)];
      // A token from another key of the same user is not affected.
      const bystander = keep((await userToken(url, deployment.server.adminKey)).access_token);
      for (const t of [...tokens, key, bystander]) assert.equal((await api(url, t).get("/v1/vaults")).status, 200);

      const revoked = await admin.delete(`/v1/auth/api-keys/${keyId}`);
      assert.equal(revoked.status, 204, revoked.text);
      assert.equal(revoked.text, "");

      for (const t of tokens) assertProblem(await api(url, t).get("/v1/vaults"), 401, "unauthorized", undefined, "token of a revoked key");
      assertProblem(await api(url, key).get("/v1/vaults"), 401, "unauthorized", undefined, "revoked raw key");
      assertProblem(await api(url).post("/v1/auth/api-key-token", { api_key: key }), 401, "unauthorized");
      assert.equal((await api(url, bystander).get("/v1/vaults")).status, 200, "another key's token still works");

      const list = await admin.get("/v1/auth/api-keys");
      const listed = list.body.keys.find((k: { id: string }) => k.id === keyId);
      assert.equal(listed.is_active, false);

      // Unknown or malformed ids: 404, never 5xx.
      for (const id of [randomUUID(), "not-a-uuid", "%00", "1".repeat(300)]) {
        const res = await admin.delete(`/v1/auth/api-keys/${encodeURIComponent(id)}`);
        assertProblem(res, 404, "api_key_not_found", undefined, `DELETE key ${id}`);
      }
    });

    test("an API key with an expires_at in the past is refused (400 expires_at_in_past)", async () => {
      const refused = await admin.post("/v1/auth/api-keys", { name: "born-expired", expires_at: new Date(Date.now() - 60_000).toISOString() });
      assertProblem(refused, 400, "expires_at_in_past", /future/);
      assert.ok(!(await admin.get("/v1/auth/api-keys")).body.keys.some((k: { name: string }) => k.name === "born-expired"), "nothing created");
    });

    test("an API key past its expires_at does not authenticate", async () => {
      const soon = expiringSoon();
      const created = await admin.post("/v1/auth/api-keys", { name: "expired", expires_at: soon.expiresAt });
      assert.equal(created.status, 201, created.text);
      const key = keep(created.body.api_key as string);
      await soon.passed();
      assertProblem(await api(url, key).get("/v1/vaults"), 401, "unauthorized");
      assertProblem(await api(url).post("/v1/auth/api-key-token", { api_key: key }), 401, "unauthorized");
    });

    test("GET /v1/health/hsm: {status} only without a user token; per-slot detail with one", async () => {
      const statusOnly = (res: { status: number; body: any; text: string }, context: string) => {
        assert.equal(res.status, 200, `${context}: ${res.text}`);
        assert.deepEqual(Object.keys(res.body), ["status"], `${context}: ${res.text}`);
        assert.match(res.body.status, /^(ok|degraded|unavailable)$/);
      };
      statusOnly(await api(url).get("/v1/health/hsm"), "no token");
      statusOnly(await api(url, "garbage").get("/v1/health/hsm"), "garbage token");
      statusOnly(await api(url, `1ck_${"A".repeat(43)}`).get("/v1/health/hsm"), "unknown key");

      const agent = await createAgent(admin, { name: "health-agent" });
      keep(agent.api_key);
      const agentJwt = keep((await agentToken(url, agent.api_key)).access_token);
      statusOnly(await api(url, agentJwt).get("/v1/health/hsm"), "agent token");

      const userJwt = keep((await userToken(url, deployment.server.adminKey)).access_token);
      for (const [label, bearer] of [["user JWT", userJwt], ["raw user key", deployment.server.adminKey]] as const) {
        const res = await api(url, bearer).get("/v1/health/hsm");
        assert.equal(res.status, 200, res.text);
        assert.match(res.body.status, /^(ok|degraded|unavailable)$/);
        assert.ok(Array.isArray(res.body.providers), `${label}: ${res.text}`);
        assert.deepEqual(res.body.providers.map((p: { slot: string }) => p.slot).sort(), ["aws", "azure", "gcp"]);
        for (const p of res.body.providers) {
          assert.equal(p.backend, "local", label);
          assert.match(p.status, /^(ok|degraded|unavailable)$/, label);
          assert.equal(typeof p.last_latency_ms, "number", label);
        }
      }

      const health = await api(url).get("/v1/health");
      assert.equal(health.status, 200);
      assert.deepEqual(Object.keys(health.body).sort(), ["status", "version"]);
    });

    test("bad input on the token routes: 4xx problem+json, never 5xx", async () => {
      const anon = api(url);
      for (const path of ["/v1/auth/api-key-token", "/v1/auth/agent-token"]) {
        for (const body of [{}, { api_key: 42 }, { api_key: null }, { api_key: ["1ck_x"] }, { api_key: { k: 1 } }, { api_key: "" }, { api_key: "x".repeat(513) }, [], "1ck_x", 7]) {
          const res = await anon.post(path, body);
          assertProblem(res, 400, "validation_error", undefined, `${path} ${JSON.stringify(body).slice(0, 40)}`);
        }
        assertProblem(await anon.post(path, undefined, { rawBody: "{", headers: { "content-type": "application/json" } }), 400, "invalid_json");
        const noBody = await anon.post(path);
        assert.ok(noBody.status === 400, `${path} without a body: ${noBody.status} ${noBody.text}`);
        assert.match(noBody.headers.get("content-type") ?? "", /^application\/problem\+json/);
        assertProblem(await anon.post(path, undefined, { rawBody: "api_key=1ck_x", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
        for (const key of ["1ck_garbage", "ocv_garbage", `1ck_${"A".repeat(43)}`, `ocv_${"A".repeat(43)}`, "Bearer x", "\u0000", "é"]) {
          assertProblem(await anon.post(path, { api_key: key }), 401, "unauthorized", undefined, `${path} key ${JSON.stringify(key)}`);
        }
      }
      for (const agentId of [5, null, ["x"], "x".repeat(65)]) {
        assertProblem(await anon.post("/v1/auth/agent-token", { api_key: "ocv_x", agent_id: agentId }), 400, "validation_error", undefined, `agent_id ${JSON.stringify(agentId)}`);
      }

      // Creating keys: bad names, scopes and dates are 400.
      for (const body of [{}, { name: "" }, { name: 5 }, { name: "k", scopes: "all" }, { name: "k", scopes: [1] }, { name: "k", expires_at: "tomorrow" }, { name: "k", expires_at: 5 }]) {
        assertProblem(await admin.post("/v1/auth/api-keys", body), 400, "validation_error", undefined, JSON.stringify(body));
      }
    });

    test("garbage bearers, alg none, HS256 with the public key, tampering and foreign keys: 401", async () => {
      const good = keep((await userToken(url, deployment.server.adminKey)).access_token);
      const jwks = await fetchJwks(url);
      const jwk = jwks.keys[0]!;
      const kid = jwk.kid!;
      const [h, p, s] = good.split(".") as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));

      const forged: Array<[string, string]> = [];
      forged.push(["alg none, no signature", unsignedJwt({ alg: "none", typ: "JWT", kid }, claims)]);
      forged.push(["alg none, original signature", unsignedJwt({ alg: "none", typ: "JWT", kid }, claims, s)]);
      forged.push(["alg None", unsignedJwt({ alg: "None", kid }, claims)]);
      // HS256 keyed with every spelling of the public key: raw bytes, its base64url text, the JWK, PEM.
      const publicBytes = Buffer.from(jwk.x!, "base64url");
      const pem = (await import("node:crypto")).createPublicKey({ key: jwk as any, format: "jwk" }).export({ format: "pem", type: "spki" }) as string;
      for (const [label, secret] of [
        ["raw public key", publicBytes],
        ["x text", Buffer.from(jwk.x!)],
        ["JWK JSON", Buffer.from(JSON.stringify(jwk))],
        ["PEM", Buffer.from(pem)],
      ] as const) {
        for (const alg of ["HS256", "HS512"]) {
          const head = b64u(JSON.stringify({ alg, typ: "JWT", kid }));
          const mac = createHmac(alg === "HS256" ? "sha256" : "sha512", secret).update(`${head}.${p}`).digest("base64url");
          forged.push([`${alg} keyed with ${label}`, `${head}.${p}.${mac}`]);
        }
      }
      // The payload changed under the original signature.
      const tampered = { ...claims, sub: `user:${randomUUID()}` };
      forged.push(["tampered sub", `${h}.${b64u(JSON.stringify(tampered))}.${s}`]);
      forged.push(["longer exp", `${h}.${b64u(JSON.stringify({ ...claims, exp: claims.exp + 86400 }))}.${s}`]);
      forged.push(["truncated signature", `${h}.${p}.${s.slice(0, -4)}`]);
      forged.push(["no signature", `${h}.${p}.`]);
      forged.push(["signature of another token", `${h}.${p}.${keep((await userToken(url, deployment.server.adminKey)).access_token).split(".")[2]}`]);
      // Properly signed, but by a key the server never issued: with the server's kid, an unknown kid, no kid.
      const foreign = generateKeyPairSync("ed25519").privateKey;
      const now = Math.floor(Date.now() / 1000);
      const claimsOnly = { org: claims.org, key_id: claims.key_id };
      forged.push(["foreign key, server kid", await mintToken(foreign, { kid, sub: claims.sub, claims: claimsOnly, iat: now })]);
      forged.push(["foreign key, unknown kid", await mintToken(foreign, { kid: randomUUID(), sub: claims.sub, claims: claimsOnly, iat: now })]);
      // Garbage of every shape.
      forged.push(["one segment", "garbage"]);
      forged.push(["three garbage segments", "a.b.c"]);
      forged.push(["base64 junk", `${b64u("{")}.${b64u("}")}.${b64u("x")}`]);
      forged.push(["huge", "x".repeat(6000)]);
      forged.push(["api-key-like", `1ck_${"A".repeat(43)}`]);

      for (const [label, token] of forged) {
        const res = await api(url, token).get("/v1/vaults");
        assertProblem(res, 401, "unauthorized", undefined, label);
      }
      // Header shapes that carry no bearer at all.
      for (const authorization of ["", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", `Token ${good}`, `Bearer ${good} extra`, `Bearer  ${good}x`]) {
        const res = await rawRequest(url, { method: "GET", path: "/v1/vaults", headers: { authorization } });
        assertProblem(res, 401, "unauthorized", undefined, `Authorization ${JSON.stringify(authorization.slice(0, 30))}`);
      }
      assertProblem(await api(url).get("/v1/vaults"), 401, "unauthorized", undefined, "no Authorization");
      // The genuine token still works after all that.
      assert.equal((await api(url, good).get("/v1/vaults")).status, 200);
    });

    test("the server's output holds no key and no token", async () => {
      await deployment.server.stop();
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
