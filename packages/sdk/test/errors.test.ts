/**
 * Error mapping against real servers: every method resolves to `{ data, error, meta }`, never throws; the
 * error's type follows 1claw's mapping, its message is the problem's detail and its code the problem's code.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { createClient, errorType, type FetchLike } from "@shardvault/sdk";
import { startServer, type ServerHandle } from "./support.js";

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("error mapping", () => {
  let server: ServerHandle;
  let pro: ServerHandle;
  before(async () => {
    [server, pro] = await Promise.all([startServer({ database: "pglite" }), startServer({ database: "pglite", env: { SHARDVAULT_PLAN: "pro" } })]);
  });
  after(async () => {
    await Promise.all([server?.stop(), pro?.stop()]);
  });

  test("403 resource_limit_exceeded keeps its type (MPC on a pro plan)", async () => {
    const client = createClient({ apiKey: pro.adminKey, baseUrl: pro.url });
    const vault = await client.vault.create({ name: "v" });
    assert.equal(vault.error, null);
    const res = await client.vault.enableMpc(vault.data!.id, { custody_mode: "2of2_client_custody" });
    assert.equal(res.data, null);
    assert.equal(res.meta.status, 403);
    assert.equal(res.error?.type, "resource_limit_exceeded");
    assert.equal(res.error?.code, "plan_required");
    assert.match(res.error!.message, /Business or Enterprise/);
    assert.equal(res.error?.detail, res.error?.message);
    // 1claw's body shape is refused the same way.
    const alias = await client.vault.enableMpc(vault.data!.id, { mpc_custody: "2-of-2" });
    assert.equal(alias.error?.type, "resource_limit_exceeded");
  });

  test("404 not_found, 400 validation_error, 409 conflict", async () => {
    const client = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const missing = await client.vault.get("00000000-0000-4000-8000-000000000000");
    assert.deepEqual(missing, {
      data: null,
      error: {
        type: "not_found",
        message: "vault 00000000-0000-4000-8000-000000000000 not found",
        code: "vault_not_found",
        detail: "vault 00000000-0000-4000-8000-000000000000 not found",
      },
      meta: { status: 404 },
    });
    const vault = (await client.vault.create({ name: "errors" })).data!;
    const noSecret = await client.secrets.get(vault.id, "does/not/exist");
    assert.equal(noSecret.error?.type, "not_found");
    assert.equal(noSecret.meta.status, 404);

    const badType = await client.secrets.put(vault.id, "a", { value: "x", type: "no-such-type" as never });
    assert.equal(badType.error?.type, "validation_error");
    assert.equal(badType.error?.code, "validation_error");
    assert.equal(badType.meta.status, 400);

    assert.equal((await client.vault.enableMpc(vault.id, { mpc_custody: "2-of-2" })).error, null);
    const again = await client.vault.enableMpc(vault.id, { custody_mode: "2of3_multi_hsm" });
    assert.equal(again.error?.type, "conflict");
    assert.equal(again.meta.status, 409);
  });

  test("401 auth_error: a wrong user key, a wrong agent key, a bad token", async () => {
    for (const options of [{ apiKey: "1ck_" + "A".repeat(43) }, { apiKey: "ocv_" + "A".repeat(43) }, { token: "not.a.jwt" }]) {
      const res = await createClient({ ...options, baseUrl: server.url }).vault.list();
      assert.equal(res.data, null);
      assert.equal(res.error?.type, "auth_error", JSON.stringify(options));
      assert.equal(res.meta.status, 401);
      assert.equal(typeof res.error?.message, "string");
      assert.equal(res.error?.code, "unauthorized");
    }
  });

  test("403 auth_error: an agent may not manage vaults", async () => {
    const user = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const agent = (await user.agents.create({ name: "limited" })).data!;
    const client = createClient({ agentId: agent.agent.id, apiKey: agent.api_key, baseUrl: server.url });
    const res = await client.vault.create({ name: "nope" });
    assert.equal(res.error?.type, "auth_error");
    assert.equal(res.meta.status, 403);
  });

  test("network_error with status 0 against a closed port, for key exchange and token clients alike", async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`;
    for (const options of [{ apiKey: "1ck_x" }, { apiKey: "ocv_x" }, { token: "t" }, {}]) {
      const res = await createClient({ ...options, baseUrl }).vault.list();
      assert.equal(res.data, null);
      assert.equal(res.error?.type, "network_error");
      assert.equal(res.error?.code, "network_error");
      assert.equal(res.meta.status, 0);
      assert.match(res.error!.message, /ECONNREFUSED/);
    }
  });

  test("a fetch that throws or a timeout is a network_error, never an exception", async () => {
    const throwing: FetchLike = async () => {
      throw new TypeError("fetch failed");
    };
    const res = await createClient({ token: "t", fetch: throwing }).secrets.list("v");
    assert.equal(res.error?.type, "network_error");
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" }))));
    const slow = await createClient({ token: "t", fetch: hanging, timeoutMs: 50 }).vault.list();
    assert.equal(slow.error?.type, "network_error");
    assert.match(slow.error!.message, /timed out/);
    assert.equal(slow.meta.status, 0);
  });

  test("non-problem and non-JSON answers still map by status", async () => {
    const answer = (status: number, text: string): FetchLike => async () => ({ status, headers: { get: () => null }, text: async () => text });
    const html = await createClient({ token: "t", fetch: answer(502, "<html>bad gateway</html>") }).vault.list();
    assert.deepEqual(html.error, { type: "server_error", message: "HTTP 502", code: "http_502", detail: "HTTP 502" });
    assert.equal(html.meta.status, 502);
    const limited = await createClient({ token: "t", fetch: answer(429, JSON.stringify({ detail: "slow down", code: "rate_limited" })) }).vault.list();
    assert.deepEqual(limited.error, { type: "rate_limit", message: "slow down", code: "rate_limited", detail: "slow down" });
    const unavailable = await createClient({ token: "t", fetch: answer(503, JSON.stringify({ type: "about:blank", detail: "provider gcp is unavailable", code: "provider_unavailable" })) }).vault.list();
    assert.equal(unavailable.error?.type, "server_error");
    assert.equal(unavailable.error?.code, "provider_unavailable");
    const garbled = await createClient({ token: "t", fetch: answer(200, "{not json") }).vault.list();
    assert.equal(garbled.error?.type, "server_error");
  });

  test("errorType follows 1claw's table", () => {
    const table: Array<[number, unknown, string]> = [
      [400, "about:blank", "validation_error"],
      [401, "about:blank", "auth_error"],
      [403, "about:blank", "auth_error"],
      [403, "resource_limit_exceeded", "resource_limit_exceeded"],
      [401, "resource_limit_exceeded", "auth_error"],
      [402, undefined, "payment_required"],
      [404, "about:blank", "not_found"],
      [409, "about:blank", "conflict"],
      [410, "about:blank", "unknown"],
      [429, "about:blank", "rate_limit"],
      [500, "about:blank", "server_error"],
      [503, "about:blank", "server_error"],
    ];
    for (const [status, type, expected] of table) assert.equal(errorType(status, type), expected, `${status} ${type}`);
  });
});
