/**
 * `src/secret-values.ts`, the dashboard's one door to secret values, against an in-memory server speaking the
 * client-side reconstruction wire (a fetch double behind the real SDK client):
 *
 * - client custody (XOR 2-of-2 and Shamir 2-of-3): a write asks for a seal target and sends the sealed version;
 *   a read asks with `X-Reconstruct: client` and opens the answer with the share; nothing sent carries the
 *   value or the share;
 * - a write whose version another write took (409 `version_conflict`, or `layout_changed`) is sealed again for a
 *   new target, up to three attempts, and the share answered is the one of the version stored;
 * - refusals made in the browser carry the dashboard's messages (crypto-errors.ts): no share, a mistyped one,
 *   another version's, a wrong one, a server answer naming another version;
 * - other vaults read and write through the server as before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commitmentContext, decodeClientShare, encodeClientShare, fromBase64, toBase64, type SealedWrite } from "@shardvault/crypto";
import { createClient, type FetchLike, type Vault } from "@shardvault/sdk";
import { readSecretValue, writeSecretValue } from "../src/secret-values.js";

interface Layout {
  custody: string;
  scheme: "xor" | "shamir";
  threshold: number;
  providers: string[];
}

const LAYOUTS: Record<string, Layout> = {
  "2of2_client_custody": { custody: "2of2_client_custody", scheme: "xor", threshold: 2, providers: ["gcp", "client"] },
  "2of3_client_custody": { custody: "2of3_client_custody", scheme: "shamir", threshold: 2, providers: ["gcp", "aws", "client"] },
};

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const json = (status: number, body: unknown) => ({ status, headers: { get: () => "application/json" }, text: async () => JSON.stringify(body) });

/** A server holding one vault's versions as clients sealed them; `conflicts` PUTs are answered 409 first. */
function fakeServer(vault: Vault, options: { conflicts?: string[]; answerVersion?: (asked: number) => number } = {}) {
  const layout = vault.mpc_custody ? LAYOUTS[vault.mpc_custody] : undefined;
  const versions = new Map<string, Array<SealedWrite | { plain: string }>>();
  const sent: Sent[] = [];
  const conflicts = [...(options.conflicts ?? [])];
  const fetch: FetchLike = async (url, init) => {
    sent.push({ method: init.method, url, headers: init.headers, body: init.body ?? "" });
    const { pathname, searchParams } = new URL(url);
    const [, route, path] = pathname.match(/^\/v1\/vaults\/[^/]+\/([a-z-]+)\/(.+)$/) ?? [];
    const stored = versions.get(path!) ?? [];
    const next = stored.length + 1;
    if (init.method === "GET" && route === "secret-seal") return json(200, { format: 1, vault_id: vault.id, path, version: next, ...layout });
    if (init.method === "PUT" && route === "secrets") {
      const body = JSON.parse(init.body!) as { sealed?: SealedWrite; value?: string };
      const conflict = conflicts.shift();
      if (conflict) {
        stored.push({ plain: "another writer's version" });
        versions.set(path!, stored);
        return json(409, { type: "conflict", title: "Conflict", status: 409, code: conflict, detail: "sealed for another version" });
      }
      if (body.sealed && body.sealed.version !== next) return json(409, { type: "conflict", title: "Conflict", status: 409, code: "version_conflict", detail: "stale" });
      stored.push(body.sealed ?? { plain: body.value! });
      versions.set(path!, stored);
      return json(201, { id: `id-${next}`, path, type: "generic", version: next, created_at: new Date(0).toISOString(), ...(body.value !== undefined && layout ? { client_share: "server-made-share" } : {}) });
    }
    if (init.method === "GET" && route === "secrets") {
      const asked = Number(searchParams.get("version") ?? stored.length);
      const version = stored[asked - 1];
      if (!version) return json(404, { type: "not_found", title: "Not Found", status: 404, code: "not_found", detail: "no such version" });
      const meta = { id: `id-${asked}`, path, type: "generic", created_at: new Date(0).toISOString(), created_by: "user:1", cmek_encrypted: false };
      if ("plain" in version) return json(200, { ...meta, version: asked, value: version.plain });
      assert.equal(init.headers["x-reconstruct"], "client");
      const answered = options.answerVersion?.(asked) ?? asked;
      const context = commitmentContext({ vaultId: vault.id, path: path!, version: answered }, layout!);
      const sealed = { format: 1, value: version.value, commitment: version.commitment, context: toBase64(context), server_shares: version.server_shares.slice(0, layout!.threshold - 1) };
      return json(200, { ...meta, version: answered, sealed });
    }
    throw new Error(`unexpected ${init.method} ${url}`);
  };
  return { client: createClient({ token: "t", baseUrl: "http://vault.test", fetch }), sent };
}

const vaultOf = (mpc_custody: string | null): Vault => ({ id: "8d0c1f6e-0c4f-4a39-9a43-5f0e9b7c2a11", name: "v", mpc_custody }) as unknown as Vault;

/** Nothing any request carried holds `text`. */
const assertNeverSent = (sent: Sent[], text: string) => {
  for (const request of sent) {
    assert.ok(!request.url.includes(text) && !request.body.includes(text) && !Object.values(request.headers).some((v) => v.includes(text)), `${request.method} ${request.url} carried it`);
    assert.equal(request.headers["x-client-share"], undefined);
  }
};

describe("secret values in the dashboard (client-side reconstruction)", () => {
  for (const mode of Object.keys(LAYOUTS)) {
    it(`${mode}: sealed on write, opened on read; neither value nor share is sent`, async () => {
      const vault = vaultOf(mode);
      const { client, sent } = fakeServer(vault);
      const written = await writeSecretValue(client, vault, "api-keys/stripe", "sk_live_ünïcode", { type: "api_key" });
      assert.equal(written.error, null);
      const share = written.data!.client_share!;
      assert.match(share, /^[A-Za-z0-9+/]+={0,2}$/);
      assert.deepEqual(
        sent.map((r) => `${r.method} ${new URL(r.url).pathname}`),
        [`GET /v1/vaults/${vault.id}/secret-seal/api-keys/stripe`, `PUT /v1/vaults/${vault.id}/secrets/api-keys/stripe`],
      );
      const body = JSON.parse(sent[1]!.body) as Record<string, unknown>;
      assert.equal(body.value, undefined);
      assert.equal(body.type, "api_key");

      for (const version of ["latest", 1] as const) {
        const read = await readSecretValue(client, vault, "api-keys/stripe", version, share);
        assert.equal(read.error, null, read.error?.detail);
        assert.deepEqual(read.data, { path: "api-keys/stripe", version: 1, cmek_encrypted: false, value: "sk_live_ünïcode" });
      }
      assert.equal(new URL(sent.at(-1)!.url).searchParams.get("version"), "1");
      assertNeverSent(sent, share);
      assertNeverSent(sent, "sk_live_");
    });
  }

  for (const code of ["version_conflict", "layout_changed"]) {
    it(`a write answered 409 ${code} is sealed again for a new target`, async () => {
      const vault = vaultOf("2of2_client_custody");
      const { client, sent } = fakeServer(vault, { conflicts: [code] });
      const written = await writeSecretValue(client, vault, "db/password", "hunter2", {});
      assert.equal(written.error, null);
      assert.equal(written.data!.version, 2);
      assert.equal(sent.filter((r) => r.url.includes("/secret-seal/")).length, 2);
      const read = await readSecretValue(client, vault, "db/password", 2, written.data!.client_share);
      assert.equal(read.data?.value, "hunter2");
    });
  }

  it("gives up after three attempts and answers the last conflict", async () => {
    const vault = vaultOf("2of2_client_custody");
    const { client, sent } = fakeServer(vault, { conflicts: ["version_conflict", "version_conflict", "version_conflict"] });
    const written = await writeSecretValue(client, vault, "db/password", "hunter2", {});
    assert.equal(written.error?.code, "version_conflict");
    assert.equal(sent.filter((r) => r.method === "PUT").length, 3);
  });

  it("refusals made in the browser say what is wrong with the share", async () => {
    const vault = vaultOf("2of3_client_custody");
    const { client, sent } = fakeServer(vault);
    const first = await writeSecretValue(client, vault, "ssh/deploy", "v1", {});
    const second = await writeSecretValue(client, vault, "ssh/deploy", "v2", {});
    const share = first.data!.client_share!;
    const before = sent.length;

    const none = await readSecretValue(client, vault, "ssh/deploy", 1, "");
    assert.equal(none.error?.code, "client_share_required");
    assert.equal(sent.length, before, "nothing is asked without a share");

    const bytes = fromBase64(share)!;
    bytes[12]! ^= 1;
    const cases: Array<[string, string, RegExp]> = [
      [toBase64(bytes), "client_share_bad_check", /has a typo or is cut short/],
      ["not a share", "client_share_bad_encoding", /This is not a client share/],
      [second.data!.client_share!, "client_share_mismatch", /belongs to another secret or version, not to version 1 of “ssh\/deploy”/],
    ];
    for (const [wrong, code, message] of cases) {
      const read = await readSecretValue(client, vault, "ssh/deploy", 1, wrong);
      assert.equal(read.error?.code, code);
      assert.equal(read.meta.status, 200, "the server answered the sealed version; the share was refused here");
      assert.match(read.error!.detail, message);
      assert.ok(!read.error!.detail.includes(wrong), "the message quotes the share");
    }
  });

  it("a share tagged for this version whose key part is wrong (as an old share after a refresh): client_share_invalid", async () => {
    const vault = vaultOf("2of2_client_custody");
    const { client } = fakeServer(vault);
    const written = await writeSecretValue(client, vault, "ssh/deploy", "v1", {});
    const decoded = await decodeClientShare(written.data!.client_share!);
    decoded.share[0]! ^= 1;
    const read = await readSecretValue(client, vault, "ssh/deploy", 1, await encodeClientShare(decoded));
    assert.equal(read.error?.code, "client_share_invalid");
    assert.match(read.error!.detail, /does not decrypt version 1 of “ssh\/deploy”/);
  });

  it("a server answer naming another version is refused, nothing opened", async () => {
    const vault = vaultOf("2of2_client_custody");
    const { client } = fakeServer(vault, { answerVersion: (asked) => asked + 1 });
    const written = await writeSecretValue(client, vault, "ssh/deploy", "v1", {});
    const read = await readSecretValue(client, vault, "ssh/deploy", 1, written.data!.client_share);
    assert.equal(read.error?.code, "sealed_context_mismatch");
    assert.equal(read.error?.type, "server_error");
    assert.match(read.error?.detail ?? "", /answered with another secret or version than version 1 of “ssh\/deploy”/);
  });

  it("other vaults read and write through the server", async () => {
    const vault = vaultOf(null);
    const { client, sent } = fakeServer(vault);
    const written = await writeSecretValue(client, vault, "plain/key", "value-1", { type: "generic" });
    assert.equal(written.data?.client_share, undefined);
    assert.equal(JSON.parse(sent[0]!.body).value, "value-1");
    const read = await readSecretValue(client, vault, "plain/key", "latest");
    assert.equal(read.data?.value, "value-1");
    assert.equal(sent[1]!.headers["x-reconstruct"], undefined);
  });
});
