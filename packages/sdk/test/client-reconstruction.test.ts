/**
 * Client-side reconstruction in the SDK (`reconstruct: "client"`), against a real server, through a proxy that
 * records every byte the server is sent. In every client-custody mode:
 *
 * - `put` and `set` seal on the client: a seal target, then `PUT { sealed }`; `get` and `getVersion` send
 *   `X-Reconstruct: client` and open the answer here. No request carries the value or the client share (its
 *   text, or its 32 share bytes raw, in base64 or in hex), no answer carries the value, and the value round-trips.
 * - Interop: a client-sealed version reads server-side with `X-Client-Share`, and a server-sealed one client-side.
 * - A share of another version is `client_share_mismatch`, one with the right tag and wrong bytes
 *   `client_share_invalid`, a mistyped one `client_share_bad_check`: SDK errors, never exceptions.
 * - A write that loses its version to another writer seals again for a fresh target.
 * - A vault without client custody answers `client_reconstruction_unavailable`; a client-side read without a
 *   share, or with an `X-Client-Share` header, is refused before anything is sent.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient, CUSTODY_MODE_NAMES, type FetchLike, type ShardvaultClient } from "@shardvault/sdk";
import { editShare, wrongShareBytes } from "../../server/test/support/mpc-support.js";
import { assertNeverSent, startRecordingProxy, type RecordingProxy } from "./recording-proxy.js";
import { startServer, type ServerHandle } from "./support.js";

/** The custody modes whose holders end with the client's share. */
const CLIENT_CUSTODY_MODES = CUSTODY_MODE_NAMES.filter((mode) => mode.includes("client"));

const secretValue = (label: string) => `${label}-${crypto.randomUUID()}-ünïcødé`;

describe("client-side reconstruction through a recording proxy", () => {
  let server: ServerHandle;
  let proxy: RecordingProxy;
  let direct: ShardvaultClient;
  let proxied: ShardvaultClient;
  before(async () => {
    server = await startServer({ database: "pglite" });
    proxy = await startRecordingProxy(server.url);
    direct = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    proxied = createClient({ apiKey: server.adminKey, baseUrl: proxy.url });
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  const recorded = <T>(work: () => Promise<T>) => proxy.during(work);

  async function custodyVault(mode: string): Promise<string> {
    const vault = await direct.vault.create({ name: `recon-${mode}` });
    assert.equal(vault.error, null);
    const enabled = await direct.vault.enableMpc(vault.data!.id, { custody_mode: mode as never });
    assert.equal(enabled.error, null, JSON.stringify(enabled.error));
    return vault.data!.id;
  }

  test("the modes under test include 2of2_client_custody and 2of3_client_custody", () => {
    assert.ok(CLIENT_CUSTODY_MODES.includes("2of2_client_custody"));
    assert.ok(CLIENT_CUSTODY_MODES.includes("2of3_client_custody"));
  });

  for (const mode of CLIENT_CUSTODY_MODES) {
    test(`${mode}: put and get sealed and opened on the client; the server is sent neither value nor share`, async () => {
      const vault = await custodyVault(mode);
      const value = secretValue("sk_live");
      const put = await recorded(() => proxied.secrets.put(vault, "api/key", { type: "api_key", value, metadata: { team: "payments" } }, { reconstruct: "client" }));
      const written = put.result;
      assert.equal(written.error, null, JSON.stringify(written.error));
      assert.equal(written.meta.status, 201);
      assert.deepEqual([written.data!.path, written.data!.version, written.data!.type], ["api/key", 1, "api_key"]);
      const share = written.data!.client_share!;
      assert.match(share, /^[A-Za-z0-9+/]{63}=$/, "a client share, as a server-side write answers it");
      assert.deepEqual(
        put.exchanges.map((e) => `${e.method} ${e.url} ${e.status}`),
        [`GET /v1/vaults/${vault}/secret-seal/api/key 200`, `PUT /v1/vaults/${vault}/secrets/api/key 201`],
      );
      const body = JSON.parse(put.exchanges[1]!.sent.subarray(put.exchanges[1]!.sent.indexOf("\r\n\r\n") + 4).toString("utf8"));
      assert.deepEqual(Object.keys(body).sort(), ["metadata", "sealed", "type"], "no value field");
      assertNeverSent(put.exchanges, value, share);

      const read = await recorded(() => proxied.secrets.get(vault, "api/key", { clientShare: share, reconstruct: "client" }));
      assert.equal(read.result.error, null, JSON.stringify(read.result.error));
      assert.equal(read.result.data!.value, value);
      assert.deepEqual([read.result.data!.version, read.result.data!.type, read.result.data!.metadata], [1, "api_key", { team: "payments" }]);
      assert.equal("sealed" in read.result.data!, false, "the same shape as a server-side read");
      assert.equal(read.exchanges.length, 1);
      assert.equal(read.exchanges[0]!.headers["x-reconstruct"], "client");
      assert.equal(read.exchanges[0]!.headers["x-client-share"], undefined);
      assertNeverSent(read.exchanges, value, share);
      assert.ok(!read.exchanges[0]!.answer.includes(Buffer.from(value)), "the server never had the value to answer");

      // A second version with set; each version opens with its own share, getVersion too.
      const second = secretValue("sk_live_2");
      const set = await recorded(() => proxied.secrets.set(vault, "api/key", second, { type: "api_key", reconstruct: "client" }));
      assert.equal(set.result.data?.version, 2, JSON.stringify(set.result.error));
      const share2 = set.result.data!.client_share!;
      assertNeverSent(set.exchanges, second, share2);
      const v1 = await recorded(() => proxied.secrets.getVersion(vault, "api/key", 1, { clientShare: share, reconstruct: "client" }));
      assert.equal(v1.result.data?.value, value, JSON.stringify(v1.result.error));
      assert.equal(v1.exchanges[0]!.url, `/v1/vaults/${vault}/secrets/api/key?version=1`, "getSealed's route");
      assertNeverSent(v1.exchanges, value, share);
      const latest = await recorded(() => proxied.secrets.get(vault, "api/key", { clientShare: share2, reconstruct: "client" }));
      assert.equal(latest.result.data?.value, second);
      assertNeverSent(latest.exchanges, second, share2);
      const asked = await proxied.secrets.get(vault, "api/key", { version: 1, clientShare: share, reconstruct: "client" });
      assert.equal(asked.data?.value, value);
    });

    test(`${mode}: interop — a client-sealed version reads server-side, a server-sealed one client-side`, async () => {
      const vault = await custodyVault(mode);
      const value = secretValue("interop");
      const sealedHere = await direct.secrets.set(vault, "db/password", value, { reconstruct: "client" });
      const serverSide = await direct.secrets.get(vault, "db/password", { headers: { "X-Client-Share": sealedHere.data!.client_share! } });
      assert.equal(serverSide.data?.value, value, JSON.stringify(serverSide.error));

      const other = secretValue("server-sealed");
      const sealedThere = await direct.secrets.set(vault, "db/replica", other);
      assert.equal(sealedThere.meta.status, 201);
      const clientSide = await direct.secrets.get(vault, "db/replica", { clientShare: sealedThere.data!.client_share!, reconstruct: "client" });
      assert.equal(clientSide.data?.value, other, JSON.stringify(clientSide.error));
    });

    test(`${mode}: a wrong client share is an SDK error with the crypto core's code`, async () => {
      const vault = await custodyVault(mode);
      const v1 = (await direct.secrets.set(vault, "a", "first", { reconstruct: "client" })).data!;
      const v2 = (await direct.secrets.set(vault, "a", "second", { reconstruct: "client" })).data!;
      const other = (await direct.secrets.set(vault, "b", "other", { reconstruct: "client" })).data!;
      const read = (clientShare: string) => direct.secrets.get(vault, "a", { clientShare, reconstruct: "client" });

      const cases: Array<[what: string, share: string, code: string]> = [
        ["the previous version's share", v1.client_share!, "client_share_mismatch"],
        ["another secret's share", other.client_share!, "client_share_mismatch"],
        ["the right tag, wrong share bytes", wrongShareBytes(v2.client_share!), "client_share_invalid"],
        ["a mistyped share", editShare(v2.client_share!, (b) => void (b[10]! ^= 1), { recheck: false }), "client_share_bad_check"],
        ["not base64", "not a share!", "client_share_bad_encoding"],
      ];
      for (const [what, share, code] of cases) {
        const answer = await read(share);
        assert.equal(answer.data, null, what);
        assert.deepEqual([answer.error?.type, answer.error?.code, answer.meta.status], ["validation_error", code, 200], what);
        assert.ok(!answer.error!.message.includes(share), `${what}: the message does not echo the share`);
      }
      assert.equal((await read(v2.client_share!)).data?.value, "second");
    });
  }

  test("a sealed write whose version another writer took first seals again for a fresh target", async () => {
    const vault = await custodyVault("2of2_client_custody");
    const globalFetch = globalThis.fetch;
    let raced = false;
    const sealTargets: number[] = [];
    // Before the first sealed PUT goes out, another client writes version 1: the sealed one is 409 version_conflict.
    const racing: FetchLike = async (url, init) => {
      if (url.includes("/secret-seal/")) sealTargets.push(sealTargets.length);
      if (init.method === "PUT" && !raced) {
        raced = true;
        assert.equal((await direct.secrets.set(vault, "race", "from another writer")).meta.status, 201);
      }
      return globalFetch(url, init);
    };
    const client = createClient({ apiKey: server.adminKey, baseUrl: server.url, fetch: racing });
    const written = await client.secrets.set(vault, "race", "sealed here", { reconstruct: "client" });
    assert.equal(written.error, null, JSON.stringify(written.error));
    assert.equal(written.data!.version, 2);
    assert.equal(sealTargets.length, 2, "a second seal target after the conflict");
    const read = await client.secrets.get(vault, "race", { clientShare: written.data!.client_share!, reconstruct: "client" });
    assert.equal(read.data?.value, "sealed here");
  });

  test("a vault without client custody: client_reconstruction_unavailable, for reads and writes", async () => {
    const plain = (await direct.vault.create({ name: "plain" })).data!.id;
    await direct.secrets.set(plain, "k", "plain value");
    const read = await proxied.secrets.get(plain, "k", { clientShare: "AQEC", reconstruct: "client" });
    assert.deepEqual([read.error?.type, read.error?.code, read.meta.status], ["validation_error", "client_reconstruction_unavailable", 400]);
    assert.ok(read.error!.message.length > 0);
    const write = await proxied.secrets.set(plain, "k", "another", { reconstruct: "client" });
    assert.deepEqual([write.error?.code, write.meta.status], ["client_reconstruction_unavailable", 400]);
    assert.equal((await direct.secrets.get(plain, "k")).data?.value, "plain value", "nothing was written");
  });

  test("refused before sending: no share, a share in an X-Client-Share header, an unknown reconstruction", async () => {
    let sent = 0;
    const client = createClient({ token: "t", baseUrl: "http://127.0.0.1:9", fetch: async () => (sent++, { status: 200, headers: { get: () => null }, text: async () => "{}" }) });
    const none = await client.secrets.get("v", "a", { reconstruct: "client" });
    assert.deepEqual([none.error?.type, none.error?.code, none.meta.status], ["validation_error", "client_share_required", 0]);
    const header = await client.secrets.getVersion("v", "a", 1, { headers: { "x-client-share": "AQEC" }, clientShare: "AQEC", reconstruct: "client" });
    assert.deepEqual([header.error?.code, header.meta.status], ["conflicting_headers", 0]);
    const unknown = await client.secrets.get("v", "a", { clientShare: "AQEC", reconstruct: "both" as never });
    assert.deepEqual([unknown.error?.code, unknown.meta.status], ["invalid_reconstruct", 0]);
    const unknownWrite = await client.secrets.set("v", "a", "x", { reconstruct: "elsewhere" as never });
    assert.deepEqual([unknownWrite.error?.code, unknownWrite.meta.status], ["invalid_reconstruct", 0]);
    assert.equal(sent, 0);
  });

  test("an answer without a sealed version, or a seal target for another secret, is a server_error", async () => {
    const answering = (body: unknown): FetchLike => async () => ({ status: 200, headers: { get: () => null }, text: async () => JSON.stringify(body) });
    const read = await createClient({ token: "t", fetch: answering({ id: "x", path: "a", version: 1, value: "plain" }) }).secrets.get("v", "a", { clientShare: "AQEC", reconstruct: "client" });
    assert.deepEqual([read.error?.type, read.error?.code], ["server_error", "invalid_response"]);
    const target = { format: 1, vault_id: "v", path: "other", version: 1, custody: "2of2_client_custody", scheme: "xor", threshold: 2, providers: ["gcp", "client"] };
    const write = await createClient({ token: "t", fetch: answering(target) }).secrets.set("v", "a", "x", { reconstruct: "client" });
    assert.deepEqual([write.error?.type, write.error?.code], ["server_error", "invalid_response"]);
  });
});
