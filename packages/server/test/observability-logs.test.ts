/**
 * Logs as an operator reads them: the start-up summary in plain lines, everything else JSON lines; a request id
 * on every request's line, answered in `X-Request-Id` (the caller's own when it is sane); the route pattern,
 * never the URL a caller typed; the level from SHARDVAULT_LOG_LEVEL.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertJsonLogs, expectStartFailure, rawRequest, startServer, UUID, type ServerHandle } from "./support/harness.js";
import { eventually } from "./support/peers/cloud-suites.js";

/** A request's line is written once its answer has gone out: wait for it (a safety net, not a timing claim). */
async function lineOf(server: ServerHandle, id: string | null) {
  await eventually(() => assertJsonLogs(server.output()).some((l) => l.request_id === id), `the log line of request ${id}`, 10_000);
  return assertJsonLogs(server.output()).find((l) => l.request_id === id)!;
}

describe("JSON logs and request ids", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite" });
  });
  after(async () => {
    await server?.stop();
  });

  test("a sane X-Request-Id is answered back and names the request's log line", async () => {
    const res = await api(server.url).get("/v1/health", { headers: { "x-request-id": "trace-42.a:b_c" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-request-id"), "trace-42.a:b_c");
    const line = await lineOf(server, "trace-42.a:b_c");
    assert.equal(line.route, "/v1/health");
    assert.equal(line.status, 200);
    assert.equal(line.level, "info");
  });

  test("an id that is too long or holds other characters is replaced by a fresh one", async () => {
    for (const given of ["a b", "x".repeat(129), "id\u00e9", "<script>"]) {
      const res = await api(server.url).get("/v1/health", { headers: { "x-request-id": given } });
      const answered = res.headers.get("x-request-id");
      assert.match(String(answered), UUID, `for ${JSON.stringify(given)}`);
      assert.ok(!server.output().includes(given), "the refused id is not logged");
    }
  });

  test("every request gets an id, refusals and unknown routes too, and the log names the route pattern, not the URL", async () => {
    const admin = api(server.url, server.adminKey);
    const vault = await admin.post("/v1/vaults", { name: "logs" });
    const written = await admin.put(`/v1/vaults/${vault.body.id}/secrets/some/where/deep`, { value: "x" });
    assert.equal(written.status, 201);
    const refused = await api(server.url).get("/v1/vaults");
    const missing = await api(server.url).get("/v1/nowhere/at/all");
    const badUrl = await rawRequest(server.url, { method: "GET", path: "/v1/vaults/%zz" });
    const ids = [written.headers.get("x-request-id"), refused.headers.get("x-request-id"), missing.headers.get("x-request-id"), String(badUrl.headers["x-request-id"])];
    for (const id of ids) assert.match(String(id), UUID);
    const lines = await Promise.all(ids.map((id) => lineOf(server, id)));
    assert.deepEqual(
      lines.map((line) => [line.route, line.status]),
      [
        ["/v1/vaults/:vault_id/secrets/*", 201],
        ["/v1/vaults", 401],
        [null, 404],
        [null, 400],
      ],
    );
    assert.ok(!server.output().includes("some/where/deep"), "the secret's path is not in the logs");
    assert.ok(!server.output().includes("nowhere/at/all"), "an unknown URL is not in the logs");
  });

  test("the start-up summary stays plain text: database, providers, where it listens, the dashboard, the key once", () => {
    const output = server.output();
    assert.match(output, /^\[shardvault\] database: embedded PostgreSQL/m);
    assert.match(output, /^\[shardvault\] key providers: gcp \(local\)/m);
    assert.match(output, new RegExp(`^\\[shardvault\\] listening on ${server.url}$`, "m"));
    assert.match(output, new RegExp(`^\\[shardvault\\] dashboard: ${server.url}/$`, "m"));
    assert.equal(output.match(/^Admin API key \(shown once\): 1ck_/gm)?.length, 1);
  });
});

describe("log level", () => {
  test("SHARDVAULT_LOG_LEVEL=warn: no request lines, the start-up summary all the same", async () => {
    const server = await startServer({ database: "pglite", env: { SHARDVAULT_LOG_LEVEL: "warn" } });
    try {
      assert.equal((await api(server.url).get("/v1/health")).status, 200);
      assert.equal((await api(server.url).get("/v1/vaults")).status, 401);
    } finally {
      await server.stop();
    }
    assert.deepEqual(assertJsonLogs(server.output()), []);
    assert.doesNotMatch(server.output(), /"level":"info"/);
    assert.match(server.output(), /^\[shardvault\] listening on /m);
  });

  test("an unknown level stops start-up, naming the choices", async () => {
    const failure = await expectStartFailure({ database: "pglite", env: { SHARDVAULT_LOG_LEVEL: "loud" } });
    assert.equal(failure.exit?.code, 1);
    assert.match(failure.output, /SHARDVAULT_LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent/);
  });
});
