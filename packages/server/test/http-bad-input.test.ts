/**
 * Bad requests over real HTTP: each answers its own 4xx as `application/problem+json` with
 * `type, title, status, detail, code`, never a 5xx, on PGlite and on PostgreSQL.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertJsonLogs, assertNoLeak, assertProblem, DATABASE_KINDS, rawRequest, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";

const KIB = 1024;

for (const kind of DATABASE_KINDS) {
  describe(`http-bad-input on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let key: string;
    let admin: Api;
    let vaultId: string;
    const secrets: string[] = [];
    const value = (label: string) => {
      const v = secretValue(label);
      secrets.push(v);
      return v;
    };
    const s = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;
    /** No answer of this suite may be a 5xx: every one is recorded here, checked once more at the end. */
    const serverErrors: string[] = [];
    const track = <T extends { request: string; status: number; text: string }>(res: T): T => {
      if (res.status >= 500) serverErrors.push(`${res.request.replace(url, "")}: ${res.status} ${res.body?.code ?? res.text.slice(0, 80)}`);
      return res;
    };
    const raw = async (method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array } = {}) =>
      track(
        await rawRequest(url, {
          method,
          path,
          headers: { authorization: `Bearer ${key}`, ...(opts.body !== undefined ? { "content-type": "application/json" } : {}), ...opts.headers },
          ...(opts.body !== undefined ? { body: opts.body } : {}),
        }),
      );
    const rawProblem = (res: Awaited<ReturnType<typeof raw>>, status: number, code: string, detail?: RegExp, context = "") =>
      assertProblem(res, status, code, detail, context);

    before(async () => {
      deployment = await deploy(kind, { env: { SHARDVAULT_LOG_LEVEL: "trace" } });
      url = deployment.server.url;
      key = deployment.server.adminKey;
      secrets.push(key);
      admin = api(url, key);
      const created = await admin.post("/v1/vaults", { name: "bad-input" });
      assert.equal(created.status, 201, created.text);
      vaultId = created.body.id;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("malformed JSON: 400 invalid_json", async () => {
      const bodies = ['{"value":', "{value: 1}", "not json", '{"value":"x"}}', '{"value":"x",}', "\u0000"];
      for (const body of bodies) {
        assertProblem(track(await admin.put(s("json/bad"), undefined, { rawBody: body, headers: { "content-type": "application/json" } })), 400, "invalid_json", undefined, body);
      }
      assertProblem(track(await admin.post("/v1/vaults", undefined, { rawBody: "{bad", headers: { "content-type": "application/json" } })), 400, "invalid_json");
      assertProblem(
        track(await admin.post(`/v1/vaults/${vaultId}/secret-rotate/json/bad`, undefined, { rawBody: "[", headers: { "content-type": "application/json" } })),
        400,
        "invalid_json",
      );
      // A prototype-poisoning body is refused, not merged.
      assertProblem(
        track(await admin.put(s("json/proto"), undefined, { rawBody: '{"value":"x","__proto__":{"polluted":true}}', headers: { "content-type": "application/json" } })),
        400,
        "invalid_json",
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      // Nothing was written by any of them.
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/json/bad`)), 404, "secret_not_found");
    });

    test("wrong types: 400 naming the field", async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ value: 5 }, "value"],
        [{ value: null }, "value"],
        [{ value: ["a"] }, "value"],
        [{ value: "x", metadata: "x" }, "metadata"],
        [{ value: "x", metadata: [1, 2] }, "metadata"],
        [{ value: "x", max_access_count: "1" }, "max_access_count"],
        [{ value: "x", max_access_count: 1.5 }, "max_access_count"],
        [{ value: "x", max_access_count: 0 }, "max_access_count"],
        [{ value: "x", max_access_count: -1 }, "max_access_count"],
        [{ value: "x", max_access_count: 2 ** 31 }, "max_access_count"],
        // Types are open but shaped: one lowercase word of at most 64 characters.
        [{ value: "x", type: "Password" }, "type"],
        [{ value: "x", type: "1password" }, "type"],
        [{ value: "x", type: `t${"x".repeat(64)}` }, "type"],
        [{ value: "x", type: "" }, "type"],
        [{ value: "x", type: "env-bundle" }, "type"],
        [{ value: "x", type: "env_bundle\n" }, "type"],
        [{ value: "x", type: 3 }, "type"],
        [{ value: "x", expires_at: "tomorrow" }, "expires_at"],
        [{ value: "x", expires_at: 1700000000 }, "expires_at"],
      ];
      for (const [body, field] of cases) {
        const res = track(await admin.put(s("types/x"), body));
        assertProblem(res, 400, "validation_error", new RegExp(field), JSON.stringify(body));
      }
      // Bodies that are not objects at all.
      for (const body of ["[]", '"value"', "null", "42", "true"]) {
        const res = track(await admin.put(s("types/x"), undefined, { rawBody: body, headers: { "content-type": "application/json" } }));
        assert.equal(res.status, 400, `${body}: ${res.text}`);
        assertProblem(res, 400, res.body.code, undefined, body);
        assert.ok(["validation_error", "invalid_json"].includes(res.body.code), `${body}: ${res.text}`);
      }
      // Vault and rotate bodies too.
      assertProblem(track(await admin.post("/v1/vaults", { name: 5 })), 400, "validation_error", /name/);
      assertProblem(track(await admin.post("/v1/vaults", { name: "" })), 400, "validation_error", /name/);
      assertProblem(track(await admin.post("/v1/vaults", { name: "x", description: 1 })), 400, "validation_error", /description/);
      assertProblem(track(await admin.post("/v1/vaults", { name: "x".repeat(201) })), 400, "validation_error", /name/);
      const rotate = (body: unknown) => admin.post(`/v1/vaults/${vaultId}/secret-rotate/types/r`, body);
      assertProblem(track(await rotate({ length: 7 })), 400, "validation_error", /length/);
      assertProblem(track(await rotate({ length: 1025 })), 400, "validation_error", /length/);
      assertProblem(track(await rotate({ length: "32" })), 400, "validation_error", /length/);
      assertProblem(track(await rotate({ charset: "binary" })), 400, "validation_error", /charset/);
      assertProblem(track(await rotate({ type: "Nope" })), 400, "validation_error", /type/);
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/types/x`)), 404, "secret_not_found");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/types/r`)), 404, "secret_not_found");
    });

    test("missing value: 400 naming it", async () => {
      assertProblem(track(await admin.put(s("missing/value"), { type: "password" })), 400, "validation_error", /value/);
      assertProblem(track(await admin.put(s("missing/value"), {})), 400, "validation_error", /value/);
      // No body at all, with and without a JSON content type.
      const noBody = track(await admin.put(s("missing/value"), undefined, { headers: { "content-type": "application/json" } }));
      assertProblem(noBody, 400, noBody.body?.code ?? "?", undefined, "PUT with no body");
      const noType = track(await admin.put(s("missing/value")));
      assert.equal(noType.status, 400, noType.text);
      assertProblem(noType, 400, noType.body.code);
      assertProblem(track(await admin.post("/v1/vaults", {})), 400, "validation_error", /name/);
    });

    test("a value that is not well-formed Unicode (lone surrogate) is refused, not silently altered", async () => {
      // JSON may carry a lone UTF-16 surrogate as an escape; it has no UTF-8 form. Storing it as U+FFFD would
      // hand back a different secret than was written, so the write must be refused.
      for (const [i, escaped] of ["\\ud800", "a\\udc00b", "\\udbff\\udbff"].entries()) {
        const res = track(await admin.put(s(`unicode/lone-${i}`), undefined, { rawBody: `{"value":"${escaped}"}`, headers: { "content-type": "application/json" } }));
        if (res.status === 201) {
          const back = track(await admin.get(s(`unicode/lone-${i}`)));
          assert.fail(`value "${escaped}" was accepted and reads back as ${JSON.stringify(back.body?.value)}`);
        }
        assertProblem(res, 400, res.body?.code, undefined, escaped);
      }
      // Well-formed surrogate pairs are fine.
      const pair = track(await admin.put(s("unicode/pair"), undefined, { rawBody: '{"value":"\\ud83d\\ude00"}', headers: { "content-type": "application/json" } }));
      assert.equal(pair.status, 201, pair.text);
      assert.equal(track(await admin.get(s("unicode/pair"))).body.value, "😀");
    });

    test("a body that is not UTF-8 is refused (400 invalid_json), never stored with U+FFFD", async () => {
      // Raw bytes over node:http: fetch would re-encode a string. Each body is JSON apart from its bytes.
      const body = (before: string, bytes: number[], rest: string) => Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(rest)]);
      const cases: Array<[string, string, Buffer]> = [
        ["0xFF in a value", s("utf8/ff"), body('{"value":"a', [0xff], 'b"}')],
        ["an encoded surrogate (ED A0 80)", s("utf8/surrogate"), body('{"value":"', [0xed, 0xa0, 0x80], '"}')],
        ["an overlong '/' (C0 AF)", s("utf8/overlong"), body('{"value":"', [0xc0, 0xaf], '"}')],
        ["a truncated sequence (E2 82)", s("utf8/truncated"), body('{"value":"x', [0xe2, 0x82], '"}')],
        ["0xFF in metadata", s("utf8/meta"), body('{"value":"x","metadata":{"k":"', [0xff], '"}}')],
        ["0xFF outside any string", s("utf8/outside"), body('{"value":"x"', [0xff], "}")],
      ];
      for (const [why, path, bytes] of cases) {
        assertProblem(await raw("PUT", path, { body: bytes }), 400, "invalid_json", /UTF-8/, why);
        assertProblem(await raw("GET", path.replace("/secrets/", "/secret-versions/")), 404, "secret_not_found", undefined, `${why}: nothing stored`);
      }
      // Every JSON body, not only secret writes.
      assertProblem(await raw("POST", "/v1/vaults", { body: body('{"name":"v', [0xff], '"}') }), 400, "invalid_json", /UTF-8/, "vault name");
      assertProblem(await raw("POST", "/v1/auth/api-key-token", { body: body('{"api_key":"1ck_', [0xed, 0xa0, 0x80], '"}') }), 400, "invalid_json", /UTF-8/, "token exchange");
      // Well-formed multi-byte UTF-8 sent raw is stored and read back byte for byte.
      const text = "é€😀";
      const ok = await raw("PUT", s("utf8/good"), { body: Buffer.from(JSON.stringify({ value: text })) });
      assert.equal(ok.status, 201, ok.text);
      assert.equal((await raw("GET", s("utf8/good"))).body.value, text);
    });

    test("deeply nested metadata: 400 metadata_invalid before any serialisation; 32 levels are accepted", async () => {
      const nested = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);
      const put = (path: string, metadataJson: string) =>
        raw("PUT", s(path), { body: `{"value":"x","metadata":${metadataJson}}` });
      // The metadata object is level 1: {"a": [[…]]} with 31 arrays is 32 levels.
      const atLimit = `{"a":${nested(31, "[", "]")}}`;
      const ok = await put("deep/limit", atLimit);
      assert.equal(ok.status, 201, ok.text);
      assert.deepEqual((await raw("GET", s("deep/limit"))).body.metadata, JSON.parse(atLimit));
      const tooDeep: Array<[string, string]> = [
        ["33 levels", `{"a":${nested(32, "[", "]")}}`],
        ["33 levels of objects", `${'{"a":'.repeat(32)}{}${"}".repeat(32)}`],
        ["4,200 arrays (an 8 KB body)", `{"a":${nested(4200, "[", "]")}}`],
        ["200,000 arrays", `{"a":${nested(200_000, "[", "]")}}`],
        ["deep inside a wide object", `{"wide":${JSON.stringify(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])))},"deep":${nested(40, "[", "]")}}`],
      ];
      for (const [why, metadata] of tooDeep) {
        assertProblem(await put("deep/refused", metadata), 400, "metadata_invalid", /nested|deep/, why);
      }
      assertProblem(await raw("GET", `/v1/vaults/${vaultId}/secret-versions/deep/refused`), 404, "secret_not_found", undefined, "nothing stored");
    });

    test("text PostgreSQL cannot store (NUL, lone surrogates) and out-of-range times: 400, not 500", async () => {
      // JSON carries these fine, but a TEXT/JSONB column refuses them (22021, 22P05, 22P02) and a timestamp
      // column refuses year 0 on PGlite (22008): the server must refuse the request, not fail inside.
      const json = { "content-type": "application/json" };
      const cases: Array<[string, string, string, string]> = [
        ["POST", "/v1/vaults", '{"name":"a\\u0000b"}', "NUL in a vault name"],
        ["POST", "/v1/vaults", '{"name":"ok","description":"x\\u0000"}', "NUL in a vault description"],
        ["POST", "/v1/vaults", '{"name":"\\ud800"}', "lone surrogate in a vault name"],
        ["PUT", s("text/m1"), '{"value":"x","metadata":{"k":"\\u0000"}}', "NUL in a metadata value"],
        ["PUT", s("text/m2"), '{"value":"x","metadata":{"k\\u0000":"v"}}', "NUL in a metadata key"],
        ["PUT", s("text/m3"), '{"value":"x","metadata":{"k":"\\ud800"}}', "lone surrogate in metadata"],
        ["PUT", s("text/m4"), '{"value":"x","expires_at":"0000-01-01T00:00:00Z"}', "expires_at in year 0"],
        ["GET", `/v1/vaults/${vaultId}/secrets?prefix=%00`, "", "NUL in the list prefix"],
      ];
      const failures: string[] = [];
      for (const [method, path, body, why] of cases) {
        const res = track(await admin.call(method, path, undefined, body ? { rawBody: body, headers: json } : {}));
        if (res.status >= 400 && res.status < 500 && res.body?.code) {
          assertProblem(res, res.status, res.body.code, undefined, why);
        } else {
          failures.push(`${method} ${path.replace(vaultId, "{id}")} ${body} (${why}): ${res.status} ${res.body?.code ?? res.text.slice(0, 80)}`);
        }
      }
      assert.deepEqual(failures, [], `requests not refused with a 4xx:\n${failures.join("\n")}`);
    });

    test("oversize value: 413 value_too_large; metadata too: 413; at the limit it is accepted", async () => {
      assertProblem(track(await admin.put(s("big/value"), { value: "x".repeat(64 * KIB + 1) })), 413, "value_too_large");
      // The limit counts bytes, not characters: 40 000 two-byte characters are 80 000 bytes.
      assertProblem(track(await admin.put(s("big/value"), { value: "é".repeat(40_000) })), 413, "value_too_large");
      const atLimit = "y".repeat(64 * KIB);
      secrets.push(atLimit);
      const ok = track(await admin.put(s("big/value"), { value: atLimit }));
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.version, 1, "refused writes took no version number");
      const back = track(await admin.get(s("big/value")));
      assert.equal(back.body.value, atLimit);
      assertProblem(track(await admin.put(s("big/meta"), { value: "x", metadata: { blob: "m".repeat(8 * KIB) } })), 413, "metadata_too_large");
    });

    test("oversize body: 413 payload_too_large", async () => {
      // Above the 1 MiB body limit, with a Content-Length …
      const big = JSON.stringify({ value: "z".repeat(2 * 1024 * KIB) });
      const res = track(await admin.put(s("big/body"), undefined, { rawBody: big, headers: { "content-type": "application/json" } }));
      assertProblem(res, 413, "payload_too_large");
      // … and streamed in chunks without one.
      const chunked = track(
        await rawRequest(url, {
          method: "PUT",
          path: s("big/body"),
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "transfer-encoding": "chunked" },
          body: big,
        }).catch((error: Error) => ({ request: "PUT chunked", status: 413, headers: {}, text: "", body: { error: error.message }, transportError: error })),
      );
      if (!("transportError" in chunked)) assertProblem(chunked, 413, "payload_too_large");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/big/body`)), 404, "secret_not_found");
    });

    test("unsupported media type: 415", async () => {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"]) {
        const res = track(await admin.put(s("media/x"), undefined, { rawBody: '{"value":"x"}', headers: { "content-type": type } }));
        assertProblem(res, 415, "unsupported_media_type", undefined, type);
      }
      // A string body from fetch without an explicit type is text/plain.
      assertProblem(track(await admin.post("/v1/vaults", undefined, { rawBody: '{"name":"x"}' })), 415, "unsupported_media_type");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/media/x`)), 404, "secret_not_found");
    });

    test("unknown route: 404 not_found", async () => {
      for (const [method, path] of [
        ["GET", "/v1/nope"],
        ["GET", "/v2/vaults"],
        ["GET", "/nope"],
        ["PATCH", "/v1/vaults"],
        ["POST", `/v1/vaults/${vaultId}/secrets/a`],
        ["GET", `/v1/vaults/${vaultId}/unknown/a`],
      ] as const) {
        assertProblem(track(await admin.call(method, path)), 404, "not_found", undefined, `${method} ${path}`);
      }
      // Also without credentials: unknown routes do not depend on auth.
      assertProblem(track(await api(url).get("/v1/nope")), 404, "not_found");
    });

    test("unknown vault: 404 vault_not_found", async () => {
      const unknown = randomUUID();
      assertProblem(track(await admin.get(`/v1/vaults/${unknown}`)), 404, "vault_not_found");
      assertProblem(track(await admin.delete(`/v1/vaults/${unknown}`)), 404, "vault_not_found");
      assertProblem(track(await admin.put(`/v1/vaults/${unknown}/secrets/a`, { value: value("nowhere") })), 404, "vault_not_found");
      assertProblem(track(await admin.get(`/v1/vaults/${unknown}/secrets/a`)), 404, "vault_not_found");
      assertProblem(track(await admin.get(`/v1/vaults/${unknown}/secrets`)), 404, "vault_not_found");
      assertProblem(track(await admin.get(`/v1/vaults/${unknown}/secret-versions/a`)), 404, "vault_not_found");
      assertProblem(track(await admin.post(`/v1/vaults/${unknown}/secret-rotate/a`)), 404, "vault_not_found");
      assertProblem(track(await admin.delete(`/v1/vaults/${unknown}/secrets/a`)), 404, "vault_not_found");
    });

    test("malformed vault id: 404, not 500", async () => {
      const ids = ["not-a-uuid", "123", "x'--", "%27%3B%20DROP%20TABLE%20vaults%3B--", "00000000-0000-0000-0000-00000000000g", randomUUID().toUpperCase() + "0", "a".repeat(300), "%00"];
      for (const id of ids) {
        assertProblem(track(await admin.get(`/v1/vaults/${id}`)), 404, "vault_not_found", undefined, id);
        assertProblem(track(await admin.delete(`/v1/vaults/${id}`)), 404, "vault_not_found", undefined, id);
        assertProblem(track(await admin.put(`/v1/vaults/${id}/secrets/a`, { value: "x" })), 404, "vault_not_found", undefined, id);
        assertProblem(track(await admin.get(`/v1/vaults/${id}/secrets/a`)), 404, "vault_not_found", undefined, id);
        assertProblem(track(await admin.get(`/v1/vaults/${id}/secrets`)), 404, "vault_not_found", undefined, id);
      }
      // The vault table is intact.
      assert.equal(track(await admin.get(`/v1/vaults/${vaultId}`)).status, 200);
    });

    test("bad secret paths: 400 invalid_path", async () => {
      const bad: Array<[string, string]> = [
        ["a//b", "empty segment"],
        ["a/b/", "trailing slash"],
        ["/a", "leading slash"],
        ["a%2F%2Fb", "encoded empty segment"],
        ["a%2Fb%2F", "encoded trailing slash"],
        ["%2Fa", "encoded leading slash"],
        ["a%2F..%2Fb", "encoded .. segment"],
        ["a%2F.%2Fb", "encoded . segment"],
        ["..%2Fb", "encoded leading .."],
        ["a%20b", "space"],
        ["a$b", "dollar"],
        ["a%24b", "encoded dollar"],
        ["caf%C3%A9", "non-ASCII letter"],
        ["a%00b", "NUL"],
        ["a%5Cb", "backslash"],
        ["a%25b", "percent"],
        ["a:b", "colon"],
        ["a*b", "star"],
        ["x".repeat(513), "513 characters"],
        [`${"a/".repeat(256)}b`, "513 characters in segments"],
      ];
      for (const [path, why] of bad) {
        assertProblem(track(await admin.put(s(path), { value: "x" })), 400, "invalid_path", undefined, why);
        assertProblem(track(await admin.get(s(path))), 400, "invalid_path", undefined, `GET ${why}`);
      }
      // The path limit is 512: exactly 512 is accepted.
      const longest = `${"b".repeat(255)}/${"c".repeat(256)}`;
      assert.equal(longest.length, 512);
      const v = value("longest");
      const ok = track(await admin.put(s(longest), { value: v }));
      assert.equal(ok.status, 201, ok.text);
      assert.equal(track(await admin.get(s(longest))).body.value, v);
      // Bad paths on the other secret routes.
      assertProblem(track(await admin.delete(s("a//b"))), 400, "invalid_path");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/a//b`)), 400, "invalid_path");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-version/a//b/1`)), 400, "invalid_path");
      assertProblem(track(await admin.post(`/v1/vaults/${vaultId}/secret-rotate/a%20b`)), 400, "invalid_path");
      assertProblem(track(await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/a%2F%2Fb/1`)), 400, "invalid_path");
      // Bad versions.
      assertProblem(track(await admin.get(`${s(longest)}?version=0`)), 400, "invalid_version");
      assertProblem(track(await admin.get(`${s(longest)}?version=abc`)), 400, "invalid_version");
      assertProblem(track(await admin.get(`${s(longest)}?version=-1`)), 400, "invalid_version");
      assertProblem(track(await admin.get(`${s(longest)}?version=1.0`)), 400, "invalid_version");
      const dup = track(await admin.get(`${s(longest)}?version=1&version=2`));
      assert.equal(dup.status, 400, dup.text);
      assertProblem(dup, 400, dup.body.code);
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-version/a/0`)), 400, "invalid_version");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-version/a/x`)), 400, "invalid_version");
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-version/a`)), 400, "invalid_version");
      assertProblem(track(await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/a/0`)), 400, "invalid_version");
      // A prefix longer than any path.
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=${"p".repeat(1025)}`)), 400, "validation_error", /prefix/);
    });

    test("invalid percent-encoding in the URL: 400 problem+json, not the framework's own JSON", async () => {
      // Fastify's router rejects these URLs before any route runs (FST_ERR_BAD_URL); the answer must still be
      // an RFC 7807 problem with a stable code, like every other error of the API.
      const cases: Array<[string, string, string]> = [
        ["PUT", s("a%zzb"), "invalid percent-encoding in a secret path"],
        ["GET", s("a%E0%A4%A"), "truncated UTF-8 in a secret path"],
        ["GET", s("a%C0%AFb"), "overlong UTF-8 in a secret path"],
        ["GET", s("%"), "a lone percent sign"],
        ["GET", `/v1/vaults/${vaultId}/secret-version/a%FF/1`, "a byte that is not UTF-8"],
        ["GET", "/v1/vaults/%zz", "invalid percent-encoding in a vault id"],
        ["GET", "/v1/nope/%zz", "invalid percent-encoding in an unknown route"],
      ];
      const failures: string[] = [];
      for (const [method, path, why] of cases) {
        const res = track(await admin.call(method, path, method === "PUT" ? { value: "x" } : undefined));
        try {
          assertProblem(res, 400, res.body?.code, undefined, why);
          assert.ok(["invalid_path", "invalid_url", "bad_request"].includes(res.body.code), `${why}: code ${res.body.code}`);
        } catch (error) {
          failures.push(`${method} ${path.replace(vaultId, "{id}")} (${why}): ${res.status} ${res.headers.get("content-type")} ${res.text.slice(0, 160)}`);
        }
      }
      assert.deepEqual(failures, [], `answers that are not problem+json:\n${failures.join("\n")}`);
    });

    test("traversal paths sent raw (node:http, no normalisation): 400 invalid_path", async () => {
      const traversal = ["a/../b", "./a", "a/./b", "..", ".", "a/..", "a/.", "../a", "a/b/../../c", "..%2Fa", "a/%2E%2E/b", "a/.%2E/b"];
      for (const path of traversal) {
        const put = await raw("PUT", s(path), { body: JSON.stringify({ value: "x" }) });
        rawProblem(put, 400, "invalid_path", undefined, `PUT ${path}`);
        rawProblem(await raw("GET", s(path)), 400, "invalid_path", undefined, `GET ${path}`);
        rawProblem(await raw("DELETE", s(path)), 400, "invalid_path", undefined, `DELETE ${path}`);
        rawProblem(await raw("GET", `/v1/vaults/${vaultId}/secret-versions/${path}`), 400, "invalid_path", undefined, `versions ${path}`);
        rawProblem(await raw("GET", `/v1/vaults/${vaultId}/secret-version/${path}/1`), 400, "invalid_path", undefined, `version ${path}`);
      }
      // Nothing was written anywhere.
      const list = await admin.get(`/v1/vaults/${vaultId}/secrets`);
      const paths = list.body.secrets.map((m: { path: string }) => m.path);
      for (const p of ["a", "b", "c", "a/b"]) assert.ok(!paths.includes(p), `${p} was written: ${paths.join(", ")}`);
    });

    test("no credentials or wrong credentials: 401", async () => {
      const anonymous = api(url);
      const wrongKey = api(url, `1ck_${randomBytes(32).toString("base64url")}`);
      const almostKey = api(url, `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`);
      const agentLike = api(url, `ocv_${randomBytes(32).toString("base64url")}`);
      for (const client of [anonymous, wrongKey, almostKey, agentLike]) {
        assertProblem(track(await client.get("/v1/vaults")), 401, "unauthorized");
        assertProblem(track(await client.post("/v1/vaults", { name: "x" })), 401, "unauthorized");
        assertProblem(track(await client.get(`/v1/vaults/${vaultId}`)), 401, "unauthorized");
        assertProblem(track(await client.put(s("auth/x"), { value: "x" })), 401, "unauthorized");
        assertProblem(track(await client.get(s("auth/x"))), 401, "unauthorized");
        // Auth comes before the vault lookup: an unknown vault does not tell itself apart.
        assertProblem(track(await client.get(`/v1/vaults/${randomUUID()}/secrets/a`)), 401, "unauthorized");
      }
      for (const authorization of ["", "Bearer", "Bearer ", `Basic ${Buffer.from(`admin:${key}`).toString("base64")}`, key, `Bearer ${key} extra`, `Token ${key}`]) {
        const res = track(await api(url).get("/v1/vaults", { headers: { authorization } }));
        assertProblem(res, 401, "unauthorized", undefined, `Authorization: ${authorization.slice(0, 10)}`);
      }
      // Nothing was written.
      assertProblem(track(await admin.get(`/v1/vaults/${vaultId}/secret-versions/auth/x`)), 404, "secret_not_found");
    });

    test("no answer of this suite was a 5xx", () => {
      assert.deepEqual(serverErrors, [], "5xx answers to bad input");
      const unhandled = deployment.server.output().split("\n").filter((line) => /unhandled/i.test(line));
      assert.deepEqual(unhandled, [], "bad input reached the unhandled-error path");
    });

    test("the server's output holds no secret value and no API key", async () => {
      const exit = await deployment.server.stop();
      assert.equal(exit.code, 0);
      // The JSON logs (at trace level: everything the server logs) are read too, their request lines included.
      const requests = assertJsonLogs(deployment.server.output());
      assert.ok(requests.length > 10, `request lines are logged (${requests.length})`);
      assertNoLeak(deployment.server.output(), secrets);
    });
  });
}
