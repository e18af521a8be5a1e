/**
 * `client.sharing` on the client side (the server's answers are the drift test's): a share's link gives the
 * share id and the link key of its `#k=` fragment; `access` sends the key only as `X-Share-Key` (the fragment
 * never reaches a URL), the passphrase as its UTF-8 bytes, and the client's token when it has one; `create`
 * sends the client share in `X-Client-Share`; ids that cannot be sent are refused before any request.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient, parseShareLink, type FetchLike } from "@shardvault/sdk";

const ID = "0b9c5a8e-2f43-4f4e-9a51-3c1f0f1e2d3c";
const KEY = "wxtLGmhPCRoWyZiwmgDzsv6AqCBDQ_1Ey1On2W7Ho48";

/** A client whose fetch records each request and answers 200 `{}`. */
function recording(options: Parameters<typeof createClient>[0] = {}) {
  const calls: Array<{ url: string; method: string; headers: Record<string, string>; body?: string }> = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, ...(init.body !== undefined ? { body: init.body } : {}) });
    return { status: 200, headers: new Headers({ "content-type": "application/json" }), text: async () => "{}" };
  };
  return { client: createClient({ baseUrl: "http://vault.test", ...options, fetch }), calls };
}

describe("parseShareLink", () => {
  test("a link gives its id and the k of its fragment; anything else is an id", () => {
    assert.deepEqual(parseShareLink(`https://vault.example.com/share/${ID}#k=${KEY}`), { id: ID, key: KEY });
    assert.deepEqual(parseShareLink(`http://127.0.0.1:8787/share/${ID}`), { id: ID });
    assert.deepEqual(parseShareLink(`https://example.com/prefix/share/${ID}#x=1&k=${KEY}`), { id: ID, key: KEY });
    assert.deepEqual(parseShareLink(`https://api.1claw.xyz/v1/share/${ID}`), { id: ID });
    assert.deepEqual(parseShareLink(ID), { id: ID });
    // A link that names no share gives no id (the SDK then refuses to send it).
    assert.deepEqual(parseShareLink("https://example.com/vaults/x"), { id: "" });
    assert.deepEqual(parseShareLink(`https://example.com/share/${ID}/extra`), { id: "" });
  });
});

describe("client.sharing requests", () => {
  test("access(link): the key only as X-Share-Key, never in the URL; the passphrase as UTF-8 bytes; no token without credentials", async () => {
    const { client, calls } = recording();
    await client.sharing.access(`https://elsewhere.example/share/${ID}#k=${KEY}`, { passphrase: "pässwörd 🔑" });
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.equal(call!.method, "GET");
    assert.equal(call!.url, `http://vault.test/v1/share/${ID}`, "the client's own server, the id only");
    assert.equal(call!.headers["x-share-key"], KEY);
    assert.equal(Buffer.from(call!.headers["x-share-passphrase"]!, "latin1").toString("utf8"), "pässwörd 🔑");
    assert.equal(call!.headers.authorization, undefined);
    assert.ok(!call!.url.includes(KEY));
  });

  test("access(id, {shareKey}) with a token; create sends the client share; lists, accept, decline, revoke hit their routes", async () => {
    const { client, calls } = recording({ token: "t0k" });
    await client.sharing.access(ID, { shareKey: KEY });
    assert.equal(calls[0]!.headers["x-share-key"], KEY);
    assert.equal(calls[0]!.headers.authorization, "Bearer t0k");
    await client.sharing.create(ID, { recipient_type: "anyone_with_link", expires_at: "2030-01-01T00:00:00Z", passphrase: undefined }, { clientShare: "c2hhcmU=" });
    assert.equal(calls[1]!.url, `http://vault.test/v1/secrets/${ID}/share`);
    assert.equal(calls[1]!.headers["x-client-share"], "c2hhcmU=");
    assert.deepEqual(JSON.parse(calls[1]!.body!), { recipient_type: "anyone_with_link", expires_at: "2030-01-01T00:00:00Z" }, "undefined fields are absent");
    await client.sharing.listOutbound();
    await client.sharing.listInbound();
    await client.sharing.accept(ID);
    await client.sharing.decline(ID);
    await client.sharing.revoke(ID);
    assert.deepEqual(
      calls.slice(2).map((c) => `${c.method} ${new URL(c.url).pathname}`),
      ["GET /v1/shares/outbound", "GET /v1/shares/inbound", `POST /v1/shares/${ID}/accept`, `POST /v1/shares/${ID}/decline`, `DELETE /v1/share/${ID}`],
    );
  });

  test("what cannot be sent is refused with a validation_error and no request", async () => {
    const { client, calls } = recording();
    for (const answer of [
      await client.sharing.access(""),
      await client.sharing.access("https://example.com/nothing"),
      await client.sharing.access(42 as never),
      await client.sharing.revoke(""),
      await client.sharing.accept("\ud800"),
      await client.sharing.create("", { recipient_type: "anyone_with_link", expires_at: "2030-01-01T00:00:00Z" }),
    ]) {
      assert.equal(answer.error?.type, "validation_error");
      assert.equal(answer.meta.status, 0);
    }
    assert.equal(calls.length, 0);
  });
});
