/**
 * "SDK methods never throw": every failure — a CMEK value that does not decrypt with the client's key (after a
 * key rotation), a CMEK key of the wrong size, a plaintext that is not UTF-8, arguments that cannot be sent,
 * answers that are not what they should be — resolves to `{ data: null, error, meta }` with a typed error.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cmekEncrypt, cmekFingerprint, createClient, generateCmekKey, type FetchLike, type ShardvaultClient } from "@shardvault/sdk";
import { startServer, type ServerHandle } from "./support.js";

const base64 = (key: Uint8Array) => Buffer.from(key).toString("base64");

describe("CMEK failures resolve with cmek_error", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite" });
  });
  after(async () => {
    await server?.stop();
  });

  async function cmekVault(key: Uint8Array) {
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const vault = (await admin.vault.create({ name: "cmek-errors" })).data!;
    assert.equal((await admin.vault.enableCmek(vault.id, { fingerprint: await cmekFingerprint(key) })).error, null);
    return { admin, vault };
  }

  test("after a server-side key rotation, a client still holding the old key gets cmek_key_mismatch, not an exception", async () => {
    const [oldKey, newKey] = [generateCmekKey(), generateCmekKey()];
    const { admin, vault } = await cmekVault(oldKey);
    const old = createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: oldKey });
    assert.equal((await old.secrets.set(vault.id, "db/password", "hunter2")).meta.status, 201);

    const job = await admin.vault.rotateCmek(vault.id, base64(oldKey), base64(newKey), await cmekFingerprint(newKey));
    assert.equal(job.meta.status, 202, JSON.stringify(job.error));
    let status = job.data!.status;
    while (status !== "completed") {
      assert.notEqual(status, "failed");
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = (await admin.vault.getRotationJobStatus(vault.id, job.data!.id)).data!.status;
    }

    const stale = await old.secrets.get(vault.id, "db/password");
    assert.equal(stale.data, null);
    assert.equal(stale.error?.type, "cmek_error");
    assert.equal(stale.error?.code, "cmek_key_mismatch");
    assert.match(stale.error!.message, /does not decrypt with this client's CMEK key/);
    assert.equal(stale.meta.status, 200, "the read itself succeeded");
    const staleVersion = await old.secrets.getVersion(vault.id, "db/password", 1);
    assert.equal(staleVersion.error?.code, "cmek_key_mismatch");

    const fresh = createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: newKey });
    assert.equal((await fresh.secrets.get(vault.id, "db/password")).data?.value, "hunter2");
  });

  test("a key of the wrong size, and a plaintext that is not UTF-8, are cmek_error too", async () => {
    const key = generateCmekKey();
    const { admin, vault } = await cmekVault(key);
    const short = createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: new Uint8Array(16) });
    const put = await short.secrets.put(vault.id, "a", { value: "x" });
    assert.deepEqual([put.error?.type, put.error?.code, put.meta.status], ["cmek_error", "cmek_key_invalid", 0]);

    // Written as raw bytes (a valid blob whose plaintext is not UTF-8): read as text, it cannot be decoded.
    assert.equal((await admin.secrets.set(vault.id, "binary", await cmekEncrypt(new Uint8Array([0x61, 0xff]), key))).meta.status, 201);
    const read = await createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: key }).secrets.get(vault.id, "binary");
    assert.deepEqual([read.error?.type, read.error?.code], ["cmek_error", "cmek_value_not_utf8"]);
    const wrongSize = await short.secrets.get(vault.id, "binary");
    assert.equal(wrongSize.error?.code, "cmek_key_invalid");
  });

  test("rotateCmekClientSide with the wrong old key resolves with the error and changes nothing", async () => {
    const key = generateCmekKey();
    const { admin, vault } = await cmekVault(key);
    await createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: key }).secrets.set(vault.id, "a", "value");
    const rotated = await admin.rotateCmekClientSide(vault.id, { oldKey: generateCmekKey(), newKey: generateCmekKey() });
    assert.equal(rotated.error?.code, "cmek_key_mismatch");
    assert.equal((await admin.vault.get(vault.id)).data?.cmek_fingerprint, await cmekFingerprint(key));
    const badArgument = await admin.rotateCmekClientSide(vault.id, null as never);
    assert.equal(badArgument.error?.type, "validation_error");
  });
});

/** Every method of every resource, with `args`; each must return a promise that resolves. */
async function callEverything(client: ShardvaultClient, args: unknown[]): Promise<Array<{ name: string; answer: any }>> {
  const results: Array<{ name: string; answer: any }> = [];
  const resourcesOf = (owner: object, prefix: string): Array<[string, any]> =>
    Object.entries(owner)
      .filter(([, value]) => typeof value === "object" && value !== null && value.constructor.name.endsWith("Resource"))
      .flatMap(([name, value]) => [[`${prefix}${name}`, value] as [string, any], ...resourcesOf(value, `${prefix}${name}.`)]);
  // Nested ones too (`client.vault.mpc`).
  const resources = resourcesOf(client, "");
  for (const [resourceName, resource] of resources) {
    for (const method of Object.getOwnPropertyNames(Object.getPrototypeOf(resource))) {
      if (method === "constructor" || typeof resource[method] !== "function") continue;
      const name = `${resourceName}.${method}`;
      let pending: unknown;
      assert.doesNotThrow(() => {
        pending = resource[method](...args);
      }, name);
      assert.ok(pending instanceof Promise, `${name} returns a promise`);
      results.push({ name, answer: await (pending as Promise<unknown>).catch((error) => assert.fail(`${name} rejected: ${error}`)) });
    }
  }
  const rotation = client.rotateCmekClientSide(...(args as Parameters<ShardvaultClient["rotateCmekClientSide"]>));
  results.push({ name: "rotateCmekClientSide", answer: await rotation.catch((error) => assert.fail(`rotateCmekClientSide rejected: ${error}`)) });
  return results;
}

describe("no argument and no answer makes a method throw", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const hostileArgs: unknown[][] = [
    [],
    [null, null, null, null],
    [undefined, undefined, undefined, undefined],
    ["\ud800", "a/\ud800", { value: "\ud800" }, "\ud800"],
    ["v", "a", { value: "x", metadata: circular }, { headers: { "x-client-share": "a\r\nb" } }],
    ["v", "a", { value: 1n, type: "generic" }, 1],
    [42, 42, 42, 42],
  ];
  const answers: Record<string, FetchLike> = {
    "a fetch that throws": async () => {
      throw new TypeError("fetch failed");
    },
    "a fetch that throws synchronously": (() => {
      throw new Error("boom");
    }) as unknown as FetchLike,
    "an answer that is not JSON": async () => ({ status: 200, headers: { get: () => null }, text: async () => "<html>" }),
    "a CMEK-marked answer that is no blob": async () => ({
      status: 200,
      headers: { get: () => null },
      text: async () => JSON.stringify({ value: "not a blob", cmek_encrypted: true, secrets: [{ path: "a" }] }),
    }),
    "a body that cannot be read": async () => ({ status: 200, headers: { get: () => null }, text: () => Promise.reject(new Error("reset")) }),
    "no response object at all": async () => undefined as never,
  };

  for (const [what, fetch] of Object.entries(answers)) {
    test(`${what}: every method resolves, whatever its arguments`, async () => {
      for (const cmekKey of [undefined, generateCmekKey(), new Uint8Array(3)]) {
        const client = createClient({ token: "t", baseUrl: "http://127.0.0.1:9", fetch, ...(cmekKey ? { cmekKey } : {}) });
        for (const args of hostileArgs) {
          for (const { name, answer } of await callEverything(client, args)) {
            assert.ok(answer && "error" in answer && "meta" in answer, `${name} resolved to the response shape`);
            if (answer.error) assert.equal(typeof answer.error.code, "string", name);
          }
        }
      }
    });
  }

  test("a header value that cannot be sent is refused by name, its value never echoed", async () => {
    let sent = false;
    const fetch: FetchLike = async () => {
      sent = true;
      return { status: 200, headers: { get: () => null }, text: async () => "{}" };
    };
    const client = createClient({ token: "t", fetch });
    const res = await client.secrets.get("v", "a", { clientShare: "secret-share\nInjected: yes" });
    assert.deepEqual([res.error?.type, res.error?.code, res.meta.status], ["validation_error", "invalid_header", 0]);
    assert.match(res.error!.message, /x-client-share/);
    assert.ok(!res.error!.message.includes("secret-share"));
    assert.equal(sent, false);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const body = await client.secrets.put("v", "a", { value: "x", metadata: circular });
    assert.deepEqual([body.error?.type, body.error?.code], ["validation_error", "invalid_body"]);
    const surrogate = await client.secrets.list("\ud800");
    assert.deepEqual([surrogate.error?.type, surrogate.error?.code], ["validation_error", "invalid_id"]);
  });
});
