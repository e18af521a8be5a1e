/**
 * The vault and secret API over real HTTP against the built server, once on the embedded database (PGlite)
 * and once on PostgreSQL: vault CRUD, versioned secrets, listing, disabling, soft delete, rotate-generate,
 * expiry and access limits, path encodings, caching headers, and no secret in the server's output.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertJsonLogs, assertNoLeak, assertProblem, DATABASE_KINDS, expiringSoon, rawRequest, secretValue, UUID, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";

const META_KEYS = new Set(["id", "path", "type", "version", "metadata", "created_at", "expires_at", "is_disabled"]);

for (const kind of DATABASE_KINDS) {
  describe(`http-secrets on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    let vaultId: string;
    let adminUserId: string;
    /** Every secret value this suite handles, and the admin key: none may show up in the server's output. */
    const secrets: string[] = [];
    const value = (label: string) => {
      const v = secretValue(label);
      secrets.push(v);
      return v;
    };
    const s = (path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;
    const put = (path: string, body: Record<string, unknown>) => admin.put(s(path), body);
    const read = (path: string) => admin.get(s(path));

    async function write(path: string, v: string, extra: Record<string, unknown> = {}) {
      const res = await put(path, { value: v, ...extra });
      assert.equal(res.status, 201, res.text);
      return res.body as { id: string; path: string; version: number; type: string };
    }

    before(async () => {
      deployment = await deploy(kind, { env: { SHARDVAULT_LOG_LEVEL: "trace" } });
      secrets.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      const created = await admin.post("/v1/vaults", { name: "secrets-suite", description: "http-secrets" });
      assert.equal(created.status, 201, created.text);
      vaultId = created.body.id;
      adminUserId = created.body.created_by;
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("vaults: create, list, get, delete", async () => {
      const created = await admin.post("/v1/vaults", { name: "to-delete", description: "a vault" });
      assert.equal(created.status, 201, created.text);
      const vault = created.body;
      assert.match(vault.id, UUID);
      assert.equal(vault.name, "to-delete");
      assert.equal(vault.description, "a vault");
      assert.match(vault.created_by, UUID);
      assert.equal(vault.created_by_type, "user");
      assert.ok(!Number.isNaN(Date.parse(vault.created_at)), vault.created_at);
      assert.equal(vault.cmek_enabled, false);
      for (const field of ["mpc_custody", "mpc_threshold", "mpc_providers"]) assert.ok(!(field in vault), `${field} is present while MPC is off`);

      const noDescription = await admin.post("/v1/vaults", { name: "bare" });
      assert.equal(noDescription.status, 201);
      assert.equal(noDescription.body.description, "");

      const list = await admin.get("/v1/vaults");
      assert.equal(list.status, 200);
      assert.ok(Array.isArray(list.body.vaults), "list is wrapped in {vaults: [...]}");
      const listed = list.body.vaults.find((v: { id: string }) => v.id === vault.id);
      assert.deepEqual(listed, vault);
      assert.ok(list.body.vaults.every((v: { cmek_enabled: unknown }) => v.cmek_enabled === false));

      const got = await admin.get(`/v1/vaults/${vault.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, vault);

      // A vault with a secret in it can be deleted; the secret goes with it.
      const inside = await admin.put(`/v1/vaults/${vault.id}/secrets/inside`, { value: value("inside") });
      assert.equal(inside.status, 201);

      const removed = await admin.delete(`/v1/vaults/${vault.id}`);
      assert.equal(removed.status, 204);
      assert.equal(removed.text, "");
      assertProblem(await admin.get(`/v1/vaults/${vault.id}`), 404, "vault_not_found");
      assertProblem(await admin.delete(`/v1/vaults/${vault.id}`), 404, "vault_not_found");
      assertProblem(await admin.get(`/v1/vaults/${vault.id}/secrets/inside`), 404, "vault_not_found");
      const after = await admin.get("/v1/vaults");
      assert.ok(!after.body.vaults.some((v: { id: string }) => v.id === vault.id));
      assert.ok(after.body.vaults.some((v: { id: string }) => v.id === vaultId));
    });

    test("PUT answers 201 with a new version every time, starting at 1, and never the value", async () => {
      const values = [value("a"), value("b"), value("c")];
      for (const [i, v] of values.entries()) {
        const res = await put("app/db/password", { value: v, type: "password", metadata: { env: "prod", n: i } });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.version, i + 1);
        assert.equal(res.body.path, "app/db/password");
        assert.equal(res.body.type, "password");
        assert.deepEqual(res.body.metadata, { env: "prod", n: i });
        assert.match(res.body.id, UUID);
        assert.ok(!Number.isNaN(Date.parse(res.body.created_at)));
        assert.ok(!("value" in res.body), "a write never returns the value");
        assert.ok(!res.text.includes(v));
      }
      const plain = await write("app/plain", value("plain"));
      assert.equal(plain.version, 1);
      assert.equal(plain.type, "generic", "type defaults to generic");
    });

    test("GET latest, ?version=N and secret-version/{path}/{v} return the right value with no-store", async () => {
      const values = [value("v1"), value("v2"), value("v3")];
      for (const v of values) await write("read/me", v, { metadata: { k: "m" } });

      const latest = await read("read/me");
      assert.equal(latest.status, 200, latest.text);
      assert.equal(latest.body.value, values[2]);
      assert.equal(latest.body.version, 3);
      assert.equal(latest.body.path, "read/me");
      assert.equal(latest.body.type, "generic");
      assert.deepEqual(latest.body.metadata, { k: "m" });
      assert.equal(latest.body.cmek_encrypted, false);
      assert.equal(latest.body.created_by, adminUserId);
      assert.match(latest.body.id, UUID);
      assert.equal(latest.headers.get("cache-control"), "no-store");
      assert.match(latest.headers.get("content-type") ?? "", /^application\/json/);

      for (const [i, v] of values.entries()) {
        const byQuery = await admin.get(`${s("read/me")}?version=${i + 1}`);
        assert.equal(byQuery.status, 200);
        assert.equal(byQuery.body.value, v);
        assert.equal(byQuery.body.version, i + 1);
        assert.equal(byQuery.body.cmek_encrypted, false);
        assert.equal(byQuery.headers.get("cache-control"), "no-store");

        const byRoute = await admin.get(`/v1/vaults/${vaultId}/secret-version/read/me/${i + 1}`);
        assert.equal(byRoute.status, 200);
        assert.equal(byRoute.body.value, v);
        assert.equal(byRoute.body.version, i + 1);
        assert.equal(byRoute.body.cmek_encrypted, false);
        assert.equal(byRoute.headers.get("cache-control"), "no-store");
      }
      assertProblem(await admin.get(`${s("read/me")}?version=4`), 404, "secret_not_found");
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-version/read/me/4`), 404, "secret_not_found");
      assertProblem(await read("read/never-written"), 404, "secret_not_found");
    });

    test("secret-versions lists every version as metadata, never values", async () => {
      const values = [value("l1"), value("l2")];
      for (const v of values) await write("versions/x", v, { type: "api_key" });
      const res = await admin.get(`/v1/vaults/${vaultId}/secret-versions/versions/x`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(
        res.body.versions.map((m: { version: number }) => m.version),
        [1, 2],
      );
      for (const meta of res.body.versions) {
        assert.ok(!("value" in meta));
        for (const key of Object.keys(meta)) assert.ok(META_KEYS.has(key), `unexpected field ${key} in version metadata`);
        assert.equal(meta.path, "versions/x");
        assert.equal(meta.type, "api_key");
      }
      for (const v of values) assert.ok(!res.text.includes(v));
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-versions/versions/none`), 404, "secret_not_found");
    });

    test("any type matching ^[a-z][a-z0-9_]{0,63}$ is stored and echoed everywhere; others are 400 and store nothing", async () => {
      const longest = `t${"x".repeat(63)}`;
      for (const [path, type] of [["types/bundle", "env_bundle"], ["types/db", "database_url"], ["types/longest", longest], ["types/one", "z"], ["types/digits", "k8s_v2"]] as const) {
        const v = value(type);
        const written = await write(path, v, { type });
        assert.equal(written.type, type, "the write echoes it");
        const got = await read(path);
        assert.equal(got.status, 200, got.text);
        assert.deepEqual([got.body.type, got.body.value], [type, v], "the read echoes it");
        const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/${path}`);
        assert.equal(versions.body.versions[0].type, type, "the version listing echoes it");
      }
      const listed = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=types/`);
      assert.deepEqual(
        Object.fromEntries(listed.body.secrets.map((m: { path: string; type: string }) => [m.path, m.type])),
        { "types/bundle": "env_bundle", "types/db": "database_url", "types/longest": longest, "types/one": "z", "types/digits": "k8s_v2" },
      );
      const rotated = await admin.post(`/v1/vaults/${vaultId}/secret-rotate/types/db`, { type: "database_url", length: 16 });
      assert.equal(rotated.status, 201, rotated.text);
      assert.deepEqual([rotated.body.type, rotated.body.version], ["database_url", 2]);
      secrets.push((await read("types/db")).body.value);

      // Refused: upper case, a leading digit or underscore, 65 characters, empty, other characters.
      for (const type of ["Env_bundle", "DATABASE_URL", "1password", "_env", `t${"x".repeat(64)}`, "", "env-bundle", "env bundle", "énv"]) {
        assertProblem(await put("types/refused", { value: value("refused"), type }), 400, "validation_error", /type/, JSON.stringify(type));
        assertProblem(await admin.post(`/v1/vaults/${vaultId}/secret-rotate/types/refused`, { type }), 400, "validation_error", /type/, JSON.stringify(type));
      }
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-versions/types/refused`), 404, "secret_not_found");
    });

    test("list with prefix: latest version per path, metadata only", async () => {
      const written = [value("p1"), value("p2"), value("p3"), value("p4")];
      await write("list/one", written[0]!);
      await write("list/one", written[1]!);
      await write("list/two/deep", written[2]!);
      await write("listing-other", written[3]!);

      const res = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=${encodeURIComponent("list/")}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(Array.isArray(res.body.secrets));
      const byPath = new Map(res.body.secrets.map((m: { path: string }) => [m.path, m]));
      assert.deepEqual([...byPath.keys()].sort(), ["list/one", "list/two/deep"]);
      assert.equal((byPath.get("list/one") as { version: number }).version, 2);
      assert.equal((byPath.get("list/two/deep") as { version: number }).version, 1);
      for (const meta of res.body.secrets) {
        assert.ok(!("value" in meta), "a list never carries values");
        for (const key of Object.keys(meta)) assert.ok(META_KEYS.has(key), `unexpected field ${key} in list metadata`);
      }
      for (const v of written) assert.ok(!res.text.includes(v));

      const all = await admin.get(`/v1/vaults/${vaultId}/secrets`);
      assert.equal(all.status, 200);
      const paths = all.body.secrets.map((m: { path: string }) => m.path);
      for (const p of ["list/one", "list/two/deep", "listing-other", "app/db/password"]) assert.ok(paths.includes(p), p);
      assert.equal(new Set(paths).size, paths.length, "one entry per path");
      assert.ok(all.body.secrets.every((m: object) => !("value" in m)));

      // The prefix is a plain string, not a LIKE pattern.
      for (const pattern of ["list_", "list%", "lis_/", "%"]) {
        const res = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=${encodeURIComponent(pattern)}`);
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body, { secrets: [] }, `prefix ${pattern}`);
      }
      const none = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=nothing-here/`);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body, { secrets: [] });
    });

    test("disabling a version: latest skips it; 410 once none is left", async () => {
      const values = [value("d1"), value("d2"), value("d3")];
      for (const v of values) await write("disable/me", v);
      const disable = (v: number) => admin.post(`/v1/vaults/${vaultId}/secret-version-disable/disable/me/${v}`);

      const first = await disable(3);
      assert.equal(first.status, 204, first.text);
      assert.equal((await read("disable/me")).body.value, values[1]);
      assert.equal((await read("disable/me")).body.version, 2);
      assertProblem(await admin.get(`${s("disable/me")}?version=3`), 410, "version_disabled");
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-version/disable/me/3`), 410, "version_disabled");

      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/disable/me`);
      assert.deepEqual(
        versions.body.versions.map((m: { version: number; is_disabled?: boolean }) => [m.version, m.is_disabled === true]),
        [
          [1, false],
          [2, false],
          [3, true],
        ],
      );
      const listed = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=disable/`);
      assert.deepEqual(
        listed.body.secrets.map((m: { path: string; version: number }) => [m.path, m.version]),
        [["disable/me", 2]],
      );

      // Disabling the middle one leaves the oldest as latest.
      assert.equal((await disable(2)).status, 204);
      assert.equal((await read("disable/me")).body.value, values[0]);
      assert.equal((await disable(1)).status, 204);
      assertProblem(await read("disable/me"), 410, "secret_unavailable");
      assertProblem(await disable(9), 404, "secret_not_found");

      // A new write is live again.
      const fresh = value("d4");
      assert.equal((await write("disable/me", fresh)).version, 4);
      assert.equal((await read("disable/me")).body.value, fresh);
    });

    test("DELETE soft-deletes every version; reads are 410; the next PUT takes the next number", async () => {
      const values = [value("x1"), value("x2")];
      for (const v of values) await write("delete/me", v);
      const removed = await admin.delete(s("delete/me"));
      assert.equal(removed.status, 204, removed.text);
      assert.equal(removed.text, "");

      assertProblem(await read("delete/me"), 410, "secret_unavailable");
      assertProblem(await admin.get(`${s("delete/me")}?version=1`), 410, "secret_deleted");
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-version/delete/me/2`), 410, "secret_deleted");
      const listed = await admin.get(`/v1/vaults/${vaultId}/secrets?prefix=delete/`);
      assert.deepEqual(listed.body, { secrets: [] });
      assertProblem(await admin.delete(s("delete/me")), 404, "secret_not_found", undefined, "deleting twice");
      assertProblem(await admin.delete(s("delete/never")), 404, "secret_not_found");

      const again = value("x3");
      const written = await write("delete/me", again);
      assert.equal(written.version, 3, "version numbers never repeat after a delete");
      const latest = await read("delete/me");
      assert.equal(latest.body.value, again);
      assert.equal(latest.body.version, 3);
      assertProblem(await admin.get(`${s("delete/me")}?version=2`), 410, "secret_deleted");
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/delete/me`);
      assert.deepEqual(
        versions.body.versions.map((m: { version: number }) => m.version),
        [3],
      );
    });

    test("rotate-generate: length and charset, checked by reading the value back", async () => {
      const rotate = (path: string, body?: unknown, opts = {}) => admin.post(`/v1/vaults/${vaultId}/secret-rotate/${path}`, body, opts);
      const readBack = async (path: string, version: number) => {
        const res = await admin.get(`${s(path)}?version=${version}`);
        assert.equal(res.status, 200, res.text);
        secrets.push(res.body.value);
        return res.body.value as string;
      };

      // No body at all: the defaults, hex and 32 characters.
      const bare = await rotate("rotate/default");
      assert.equal(bare.status, 201, bare.text);
      assert.equal(bare.body.version, 1);
      assert.equal(bare.body.type, "generic");
      assert.ok(!("value" in bare.body));
      const hex32 = await readBack("rotate/default", 1);
      assert.match(hex32, /^[0-9a-f]{32}$/);

      // An empty JSON object and an empty body with Content-Type: application/json mean the same.
      const empty = await rotate("rotate/default", {});
      assert.equal(empty.status, 201, empty.text);
      assert.equal(empty.body.version, 2);
      const emptyJson = await rotate("rotate/default", undefined, { headers: { "content-type": "application/json" } });
      assert.equal(emptyJson.status, 201, emptyJson.text);
      assert.equal(emptyJson.body.version, 3);
      const second = await readBack("rotate/default", 2);
      assert.match(second, /^[0-9a-f]{32}$/);
      assert.notEqual(second, hex32, "each rotation draws a new value");

      const alphabets: Record<string, string> = {
        hex: "0123456789abcdef",
        base64: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ascii: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(""),
      };
      let version = 0;
      for (const [charset, alphabet] of Object.entries(alphabets)) {
        for (const length of [8, 57, 1024]) {
          const res = await rotate("rotate/charsets", { charset, length, type: "password" });
          assert.equal(res.status, 201, res.text);
          assert.equal(res.body.version, ++version);
          assert.equal(res.body.type, "password");
          const generated = await readBack("rotate/charsets", version);
          assert.equal(generated.length, length, `${charset} length ${length}`);
          const outside = [...generated].filter((c) => !alphabet.includes(c));
          assert.deepEqual(outside, [], `${charset} draws only from its alphabet`);
          if (length === 1024) {
            const distinct = new Set(generated).size;
            // 1024 draws cover a 16-, 62- or 64-letter alphabet entirely (failure odds < 1e-5); ascii nearly.
            if (charset === "ascii") assert.ok(distinct >= 80, `ascii used only ${distinct} characters`);
            else assert.equal(distinct, alphabet.length, `${charset} used only ${distinct} of ${alphabet.length} characters`);
          }
        }
      }
      // The default length with another charset.
      const b64 = await rotate("rotate/b64", { charset: "base64" });
      assert.equal(b64.status, 201);
      assert.match(await readBack("rotate/b64", 1), /^[A-Za-z0-9+/]{32}$/);

      // Rotating an existing secret makes its next version.
      await write("rotate/existing", value("before-rotation"));
      const rotated = await rotate("rotate/existing", { length: 16, charset: "alphanumeric" });
      assert.equal(rotated.body.version, 2);
      assert.match(await readBack("rotate/existing", 2), /^[A-Za-z0-9]{16}$/);
      assert.match((await read("rotate/existing")).body.value, /^[A-Za-z0-9]{16}$/);
    });

    test("expires_at in the past is refused (400 expires_at_in_past); once it passes, reads answer 410; in the future it reads", async () => {
      for (const past of ["2000-01-01T00:00:00Z", new Date(Date.now() - 1000).toISOString(), "0000-01-01T00:00:00Z"]) {
        assertProblem(await admin.put(`/v1/vaults/${vaultId}/secrets/expiry/refused`, { value: value("born-expired"), expires_at: past }), 400, "expires_at_in_past", /future/, past);
      }
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-versions/expiry/refused`), 404, "secret_not_found", undefined, "nothing stored");

      const soon = expiringSoon();
      const written = await write("expiry/past", value("expired"), { expires_at: soon.expiresAt });
      assert.equal(written.version, 1);
      await soon.passed();
      assertProblem(await read("expiry/past"), 410, "secret_expired");
      assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-version/expiry/past/1`), 410, "secret_expired");

      const future = value("future");
      const expires = "2999-01-01T00:00:00.000Z";
      const w = await write("expiry/future", future, { expires_at: expires });
      assert.equal((w as unknown as { expires_at: string }).expires_at, expires);
      const res = await read("expiry/future");
      assert.equal(res.status, 200);
      assert.equal(res.body.value, future);
      assert.equal(res.body.expires_at, expires);
    });

    test("max_access_count: 1 reads once, then 410", async () => {
      const once = value("once");
      await write("limited/once", once, { max_access_count: 1 });
      const first = await read("limited/once");
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.value, once);
      assertProblem(await read("limited/once"), 410, "access_limit_reached");
      assertProblem(await admin.get(`${s("limited/once")}?version=1`), 410, "access_limit_reached");

      const twice = value("twice");
      await write("limited/twice", twice, { max_access_count: 2 });
      assert.equal((await read("limited/twice")).status, 200);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-version/limited/twice/1`)).status, 200);
      assertProblem(await read("limited/twice"), 410, "access_limit_reached");
      // Listing metadata is not an access.
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/limited/twice`);
      assert.equal(versions.status, 200);
    });

    test("HEAD on a value route does not consume a max_access_count: 1 secret", async () => {
      // Fastify answers HEAD for every GET route by running the GET handler. On a value route that decrypts
      // the secret and counts an access, while the client receives no value.
      const once = value("head");
      await write("limited/head", once, { max_access_count: 1 });
      const headers = { authorization: `Bearer ${deployment.server.adminKey}` };
      const head = await rawRequest(deployment.server.url, { method: "HEAD", path: s("limited/head"), headers });
      assert.ok(head.status < 500, `HEAD answered ${head.status}`);
      const headVersion = await rawRequest(deployment.server.url, { method: "HEAD", path: `/v1/vaults/${vaultId}/secret-version/limited/head/1`, headers });
      assert.ok(headVersion.status < 500, `HEAD answered ${headVersion.status}`);
      const get = await read("limited/head");
      assert.equal(get.status, 200, `a HEAD request used up the only access: ${get.text}`);
      assert.equal(get.body.value, once);
    });

    test("20 concurrent reads of a max_access_count: 1 secret: exactly one 200", async () => {
      for (let round = 0; round < 2; round++) {
        const once = value("race");
        const path = `limited/race-${round}`;
        await write(path, once, { max_access_count: 1 });
        const answers = await Promise.all(Array.from({ length: 20 }, () => read(path)));
        const ok = answers.filter((r) => r.status === 200);
        assert.equal(ok.length, 1, `statuses: ${answers.map((r) => r.status).join(",")}`);
        assert.equal(ok[0]!.body.value, once);
        for (const r of answers.filter((a) => a.status !== 200)) assertProblem(r, 410, "access_limit_reached");
      }
    });

    test("raw, per-segment encoded and whole-path encoded paths name the same secret", async () => {
      const [v1, v2, v3] = [value("enc1"), value("enc2"), value("enc3")];
      const raw = "enc/sub.dir/my_key-1";
      const perSegment = raw
        .split("/")
        .map((seg) => [...seg].map((c, i) => (i === 0 ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : encodeURIComponent(c))).join(""))
        .join("/");
      const whole = encodeURIComponent(raw);
      assert.match(perSegment, /^%65nc\/%73ub\.dir\/%6Dy_key-1$/);
      assert.equal(whole, "enc%2Fsub.dir%2Fmy_key-1");

      assert.equal((await write(raw, v1)).version, 1);
      const second = await write(perSegment, v2);
      assert.equal(second.version, 2);
      assert.equal(second.path, raw);
      const third = await write(whole, v3);
      assert.equal(third.version, 3);
      assert.equal(third.path, raw);

      for (const spelling of [raw, perSegment, whole]) {
        const res = await read(spelling);
        assert.equal(res.status, 200, `${spelling}: ${res.text}`);
        assert.equal(res.body.value, v3);
        assert.equal(res.body.path, raw);
        const v = await admin.get(`/v1/vaults/${vaultId}/secret-version/${spelling}/1`);
        assert.equal(v.status, 200, `${spelling}: ${v.text}`);
        assert.equal(v.body.value, v1);
        const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/${spelling}`);
        assert.deepEqual(
          versions.body.versions.map((m: { version: number }) => m.version),
          [1, 2, 3],
        );
      }
      // Mixed: one separator encoded, one not.
      assert.equal((await read("enc%2Fsub.dir/my_key-1")).body.value, v3);
      // Disable and delete through the encoded spellings act on the same secret.
      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/${whole}/3`)).status, 204);
      assert.equal((await read(raw)).body.value, v2);
      assert.equal((await admin.delete(s(perSegment))).status, 204);
      assertProblem(await read(whole), 410, "secret_unavailable");

      // Double encoding is decoded once: %252F is a literal "%2F", not a separator, and % is not allowed.
      assertProblem(await put("enc%252Fx", { value: value("dbl") }), 400, "invalid_path");
      assertProblem(await read("enc%252Fsub.dir%252Fmy_key-1"), 400, "invalid_path");
    });

    test("values round-trip exactly: empty, control characters, non-ASCII, 4-byte UTF-8", async () => {
      const tricky = ["", "\u0000\u0001\u001f", "é ü ß 中文 😀🔑", 'quote " backslash \\ slash / newline \n tab \t', " leading and trailing ", "\r\n"];
      for (const [i, v] of tricky.entries()) {
        if (v.trim().length > 3) secrets.push(v);
        const w = await put(`roundtrip/v${i}`, { value: v });
        assert.equal(w.status, 201, w.text);
        const back = await read(`roundtrip/v${i}`);
        assert.equal(back.status, 200, back.text);
        assert.equal(back.body.value, v, `value ${JSON.stringify(v)}`);
      }
    });

    test("application/json is matched with parameters and in any letter case", async () => {
      for (const [i, type] of ["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"].entries()) {
        const v = value("ct");
        const res = await admin.put(s("ctype/variants"), undefined, { rawBody: JSON.stringify({ value: v }), headers: { "content-type": type } });
        assert.equal(res.status, 201, `${type}: ${res.text}`);
        assert.equal(res.body.version, i + 1);
      }
    });

    test("Content-Type: application/json with an empty body is accepted on GET and DELETE", async () => {
      const v = value("ctype");
      await write("ctype/x", v);
      const json = { headers: { "content-type": "application/json" } };
      const got = await admin.get(s("ctype/x"), json);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.body.value, v);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`, json)).status, 200);
      assert.equal((await admin.get("/v1/vaults", json)).status, 200);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secrets`, json)).status, 200);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/ctype/x`, json)).status, 200);

      // The same with an explicit Content-Length: 0, as some clients send it.
      const headers = { authorization: `Bearer ${deployment.server.adminKey}`, "content-type": "application/json", "content-length": "0" };
      const rawGet = await rawRequest(deployment.server.url, { method: "GET", path: s("ctype/x"), headers });
      assert.equal(rawGet.status, 200, rawGet.text);
      assert.equal(rawGet.body.value, v);

      await write("ctype/y", value("ctype-y"));
      const rawDelete = await rawRequest(deployment.server.url, { method: "DELETE", path: s("ctype/y"), headers });
      assert.equal(rawDelete.status, 204, rawDelete.text);
      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/ctype/x/1`, undefined, json)).status, 204);

      const removed = await admin.delete(s("ctype/x"), json);
      assert.equal(removed.status, 204, removed.text);

      const vault = await admin.post("/v1/vaults", { name: "ctype-delete" });
      const del = await admin.delete(`/v1/vaults/${vault.body.id}`, json);
      assert.equal(del.status, 204, del.text);
      const other = await admin.post("/v1/vaults", { name: "ctype-delete-raw" });
      const rawDel = await rawRequest(deployment.server.url, { method: "DELETE", path: `/v1/vaults/${other.body.id}`, headers });
      assert.equal(rawDel.status, 204, rawDel.text);
    });

    test("health answers without a token", async () => {
      const res = await api(deployment.server.url).get("/v1/health");
      assert.equal(res.status, 200);
      assert.ok(["healthy", "degraded"].includes(res.body.status));
      assert.equal(typeof res.body.version, "string");
    });

    test("the server's output holds no secret value and no API key", async () => {
      const exit = await deployment.server.stop();
      assert.equal(exit.code, 0, deployment.server.output());
      assert.ok(secrets.length > 30);
      // The JSON logs (at trace level: everything the server logs) are read too, their request lines included.
      const requests = assertJsonLogs(deployment.server.output());
      assert.ok(requests.length > 10, `request lines are logged (${requests.length})`);
      assertNoLeak(deployment.server.output(), secrets);
    });
  });
}
