/**
 * Secret paths: every valid path round-trips through the SDK and a real server (written, read back under the
 * same name, listed, versioned, deleted); every invalid one is refused by the SDK with a validation_error and
 * no request at all.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { createClient, encodeSecretPath, secretPathProblem, type FetchLike, type ShardvaultClient } from "@shardvault/sdk";
import { startServer, type ServerHandle } from "./support.js";

const SEGMENT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".split("");
const segment = fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 12 }).filter((s) => s !== "." && s !== "..");
const validPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

/** The rule, restated independently of the SDK. */
const isValid = (path: string) => path.length > 0 && path.split("/").every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== "." && s !== "..");

const TRICKY = [
  "", "/", "a/", "/a", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a/..", "a b", "a%2Fb", "a%252Fb", "a?b", "a#b",
  "a\\b", "ü", "a/ü", "a\u0000b", "a\nb", "%2e%2e", "a;b", "a+b", "a:b", "~a", "a*", "a/b/",
];
const invalidPath = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS, "/", "%", " ", "?", "#", "\\", "ü", "~", ":", "\u0000"), maxLength: 16 }).filter((p) => !isValid(p)),
);

/** A client whose fetch records and fails every call: refusals must not reach it. */
function recordingClient(): { client: ShardvaultClient; calls: string[] } {
  const calls: string[] = [];
  const fetch: FetchLike = async (url) => {
    calls.push(url);
    throw new Error("no request was expected");
  };
  return { client: createClient({ token: "t", baseUrl: "http://127.0.0.1:9", fetch }), calls };
}

describe("secret paths", () => {
  let server: ServerHandle;
  let client: ShardvaultClient;
  let vaultId: string;
  before(async () => {
    server = await startServer({ database: "pglite" });
    client = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    vaultId = (await client.vault.create({ name: "paths" })).data!.id;
  });
  after(async () => {
    await server?.stop();
  });

  test("the SDK's rule is the documented one", () => {
    fc.assert(fc.property(fc.oneof(validPath, invalidPath), (path) => (secretPathProblem(path) === undefined) === isValid(path)));
    for (const path of TRICKY) assert.notEqual(secretPathProblem(path), undefined, JSON.stringify(path));
  });

  test("valid paths round-trip through a real server", async () => {
    await fc.assert(
      fc.asyncProperty(validPath, async (path) => {
        const value = `value of ${path}`;
        const written = await client.secrets.put(vaultId, path, { value });
        assert.equal(written.error, null, `${path}: ${JSON.stringify(written.error)}`);
        assert.equal(written.data!.path, path);
        const read = await client.secrets.get(vaultId, path);
        assert.equal(read.data?.path, path);
        assert.equal(read.data?.value, value);
        const versions = await client.secrets.listVersions(vaultId, path);
        assert.ok(versions.data!.versions.every((v) => v.path === path));
        const version = written.data!.version;
        assert.equal((await client.secrets.getVersion(vaultId, path, version)).data?.value, value);
        const listed = await client.secrets.list(vaultId, path);
        assert.ok(listed.data!.secrets.some((s) => s.path === path), `${path} is listed under its own prefix`);
        // The URL names the path segment by segment, unchanged for these characters.
        assert.equal(encodeSecretPath(path), path);
      }),
      { numRuns: 40 },
    );
  });

  test("invalid paths are refused before any request, by every method that takes a path", async () => {
    const { client: offline, calls } = recordingClient();
    await fc.assert(
      fc.asyncProperty(invalidPath, async (path) => {
        const answers = await Promise.all([
          offline.secrets.put("v", path, { value: "x" }),
          offline.secrets.set("v", path, "x"),
          offline.secrets.rotate("v", path, "x"),
          offline.secrets.rotateGenerate("v", path),
          offline.secrets.get("v", path),
          offline.secrets.delete("v", path),
          offline.secrets.listVersions("v", path),
          offline.secrets.getVersion("v", path, 1),
          offline.secrets.disableVersion("v", path, 1),
        ]);
        for (const answer of answers) {
          assert.equal(answer.data, null);
          assert.equal(answer.error?.type, "validation_error");
          assert.equal(answer.error?.code, "invalid_path");
          assert.equal(answer.meta.status, 0);
        }
      }),
      { numRuns: 200 },
    );
    assert.deepEqual(calls, []);
  });

  test("bad versions and ids are refused before any request too", async () => {
    const { client: offline, calls } = recordingClient();
    for (const version of [0, -1, 1.5, Number.NaN]) {
      assert.equal((await offline.secrets.getVersion("v", "a", version)).error?.code, "invalid_version");
      assert.equal((await offline.secrets.get("v", "a", { version })).error?.code, "invalid_version");
      assert.equal((await offline.secrets.disableVersion("v", "a", version)).error?.code, "invalid_version");
    }
    assert.equal((await offline.secrets.get("", "a")).error?.code, "invalid_id");
    assert.equal((await offline.vault.get("")).error?.code, "invalid_id");
    assert.equal((await offline.agents.get("")).error?.code, "invalid_id");
    assert.equal((await offline.apiKeys.revoke("")).error?.code, "invalid_id");
    assert.deepEqual(calls, []);
  });

  test("ids are encoded: a vault id cannot reach another route", async () => {
    const res = await client.vault.get("../agents");
    assert.equal(res.error?.type, "not_found");
    const other = await client.secrets.get("x/../../agents", "a");
    assert.equal(other.error?.type, "not_found");
  });
});
