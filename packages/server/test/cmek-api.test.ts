/**
 * CMEK over real HTTP, on the embedded database (PGlite, local provider slots) and on PostgreSQL:
 *
 * - enabling: the fingerprint must be 64 lowercase hex (else 400); the vault then shows `cmek_enabled: true`
 *   and `cmek_fingerprint`; the same fingerprint again is a no-op; another one is 409; agents may not;
 *   a deployment on a plan below Business answers 403 `resource_limit_exceeded` (Business is enough);
 * - writing: in a CMEK vault every value must be the standard base64 of [0x01][IV][ciphertext][tag]; every
 *   other shape (not base64, url-safe alphabet, unpadded, wrong version byte, < 29 bytes, non-canonical,
 *   whitespace) is 400 `cmek_value_malformed` and stores nothing; rotate-generate is refused;
 * - reading: the blob comes back byte for byte with `cmek_encrypted: true` and opens with the client's key
 *   only (latest, `?version=`, `secret-version`);
 * - disabling: new writes may be plain again, earlier CMEK versions still read back as CMEK blobs;
 * - audit events for enable and disable; nothing secret in the server's output.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { grant } from "./support/auth-support.js";
import { cmekDecrypt, cmekEncrypt, cmekKey, cmekOpens, cmekUrl, enableCmek, keyStrings, readBlob, type CmekKey } from "./support/cmek.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** A blob under `key` whose base64 satisfies `want` (tries fresh IVs / lengths until one does). */
function blobWhere(key: CmekKey, want: (b64: string) => boolean, plaintext = (i: number) => `p${"x".repeat(i % 3)}`): string {
  for (let i = 0; i < 10_000; i++) {
    const blob = cmekEncrypt(key, plaintext(i));
    if (want(blob)) return blob;
  }
  throw new Error("no blob of the wanted shape");
}

/** Values a CMEK vault must refuse, each labelled. */
function malformedValues(key: CmekKey): Array<{ label: string; value: string }> {
  const good = cmekEncrypt(key, "a perfectly good plaintext");
  const bytes = Buffer.from(good, "base64");
  const withByte0 = (b: number) => Buffer.concat([Buffer.from([b]), bytes.subarray(1)]).toString("base64");
  // The url-safe alphabet: a blob whose standard base64 has a '+' or '/', spelled with '-' / '_'.
  const urlSafe = blobWhere(key, (b) => /[+/]/.test(b))
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
  // Non-canonical: a blob with one '=' of padding carries 2 unused bits in its last character; set one.
  const padded1 = blobWhere(key, (b) => /[^=]=$/.test(b) && (ALPHABET.indexOf(b.at(-2)!) & 0x03) === 0);
  const nonCanonical1 = `${padded1.slice(0, -2)}${ALPHABET[ALPHABET.indexOf(padded1.at(-2)!) | 0x01]}=`;
  // With two '=' the last character carries 4 unused bits.
  const padded2 = blobWhere(key, (b) => b.endsWith("==") && (ALPHABET.indexOf(b.at(-3)!) & 0x0f) === 0);
  const nonCanonical2 = `${padded2.slice(0, -3)}${ALPHABET[ALPHABET.indexOf(padded2.at(-3)!) | 0x08]}==`;
  const unpadded = blobWhere(key, (b) => b.endsWith("=")).replace(/=+$/, "");
  const short28 = Buffer.concat([Buffer.from([1]), Buffer.alloc(27, 7)]).toString("base64");
  const cases = [
    { label: "plain text", value: "sk_live_not_encrypted" },
    { label: "not base64 at all", value: "this is *not* base64!" },
    { label: "empty string", value: "" },
    { label: "url-safe base64 alphabet", value: urlSafe },
    { label: "unpadded base64", value: unpadded },
    { label: "version byte 0x02", value: withByte0(0x02) },
    { label: "version byte 0x00", value: withByte0(0x00) },
    { label: "version byte 0xff", value: withByte0(0xff) },
    { label: "too short: 28 bytes decoded", value: short28 },
    { label: "too short: 1 byte", value: Buffer.from([1]).toString("base64") },
    { label: "non-canonical base64 (1 pad, unused bit set)", value: nonCanonical1 },
    { label: "non-canonical base64 (2 pads, unused bit set)", value: nonCanonical2 },
    { label: "trailing newline", value: `${good}\n` },
    { label: "leading space", value: ` ${good}` },
    { label: "inner line break (MIME style)", value: `${good.slice(0, 20)}\r\n${good.slice(20)}` },
    { label: "extra padding", value: `${good.replace(/=+$/, "")}===` },
    { label: "hex instead of base64", value: bytes.toString("hex") },
    { label: "JSON-ish wrapper", value: JSON.stringify({ blob: good }) },
  ];
  // Sanity: every case really is not what the format describes (the test's own decoder refuses each).
  for (const c of cases) assert.ok(!cmekOpens(key, c.value), `test bug: ${c.label} opens`);
  assert.ok(cmekOpens(key, good));
  return cases;
}

for (const kind of DATABASE_KINDS) {
  describe(`cmek-api on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    const extraOutputs: Array<() => string> = [];
    const extraDeployments: Deployment[] = [];
    /** Everything that must not show up in any server output. */
    const sensitive: string[] = [];
    const key = (): CmekKey => {
      const k = cmekKey();
      sensitive.push(...keyStrings(k));
      return k;
    };
    const plain = (label: string) => {
      const v = secretValue(label);
      sensitive.push(v);
      return v;
    };
    const s = (vaultId: string, path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;

    async function newVault(name: string): Promise<string> {
      const res = await admin.post("/v1/vaults", { name });
      assert.equal(res.status, 201, res.text);
      return res.body.id;
    }

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
    });

    after(async () => {
      await Promise.all(extraDeployments.map((d) => d.dispose()));
      await deployment?.dispose();
    });

    test("a new vault has CMEK off; enabling shows cmek_enabled and cmek_fingerprint everywhere", async () => {
      const vaultId = await newVault("cmek-enable");
      const before = await admin.get(`/v1/vaults/${vaultId}`);
      assert.equal(before.body.cmek_enabled, false, before.text);
      assert.ok(!("cmek_fingerprint" in before.body), before.text);

      const k = key();
      const enabled = await enableCmek(admin, vaultId, k);
      assert.equal(enabled.id, vaultId);
      const got = await admin.get(`/v1/vaults/${vaultId}`);
      assert.equal(got.body.cmek_enabled, true, got.text);
      assert.equal(got.body.cmek_fingerprint, k.fingerprint);
      const listed = (await admin.get("/v1/vaults")).body.vaults.find((v: any) => v.id === vaultId);
      assert.equal(listed.cmek_enabled, true);
      assert.equal(listed.cmek_fingerprint, k.fingerprint);

      // The same fingerprint again: a no-op 200.
      const again = await admin.post(cmekUrl(vaultId), { fingerprint: k.fingerprint });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.cmek_fingerprint, k.fingerprint);

      // Another fingerprint while enabled: 409, and the fingerprint stays.
      const other = key();
      assertProblem(await admin.post(cmekUrl(vaultId), { fingerprint: other.fingerprint }), 409, "cmek_already_enabled");
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint, k.fingerprint);
    });

    test("the fingerprint must be 64 lowercase hex characters (else 400, nothing enabled)", async () => {
      const vaultId = await newVault("cmek-bad-fingerprint");
      const k = cmekKey();
      const bad: Array<[string, unknown]> = [
        ["uppercase hex", k.fingerprint.toUpperCase()],
        ["63 characters", k.fingerprint.slice(1)],
        ["65 characters", `${k.fingerprint}0`],
        ["not hex", `${"g".repeat(64)}`],
        ["0x prefix", `0x${k.fingerprint.slice(2)}`],
        ["surrounding space", ` ${k.fingerprint.slice(1)}`],
        ["the key itself (base64)", k.b64],
        ["empty", ""],
        ["a number", 12345],
        ["null", null],
        ["an array", [k.fingerprint]],
      ];
      for (const [label, fingerprint] of bad) {
        assertProblem(await admin.post(cmekUrl(vaultId), { fingerprint }), 400, "validation_error", undefined, label);
      }
      assertProblem(await admin.post(cmekUrl(vaultId), {}), 400, "validation_error", undefined, "missing");
      assertProblem(await admin.post(cmekUrl(vaultId), { fingerprint: k.fingerprint.slice(0, 63) + "G" }), 400, "validation_error");
      const vault = await admin.get(`/v1/vaults/${vaultId}`);
      assert.equal(vault.body.cmek_enabled, false, vault.text);
      // An unknown vault: 404.
      const missing = await admin.post(cmekUrl("00000000-0000-4000-8000-000000000000"), { fingerprint: k.fingerprint });
      assert.equal(missing.status, 404, missing.text);
    });

    test("in a CMEK vault every malformed value is 400 cmek_value_malformed and nothing is stored", async () => {
      const vaultId = await newVault("cmek-malformed");
      const k = key();
      await enableCmek(admin, vaultId, k);
      // One good version first, so that "nothing stored" is checked on an existing path too.
      const plaintext = plain("first");
      const firstBlob = cmekEncrypt(k, plaintext);
      assert.equal((await admin.put(s(vaultId, "cmek/existing"), { value: firstBlob })).status, 201);

      for (const { label, value } of malformedValues(k)) {
        for (const path of ["cmek/existing", "cmek/new"]) {
          const res = await admin.put(s(vaultId, path), { value, type: "password" });
          assertProblem(res, 400, "cmek_value_malformed", undefined, `${label} on ${path}`);
        }
      }
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/cmek/existing`);
      assert.equal(versions.status, 200, versions.text);
      assert.deepEqual(
        versions.body.versions.map((v: any) => v.version),
        [1],
        "a refused write stored a version",
      );
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/cmek/new`)).status, 404, "a refused write created a path");
      const list = await admin.get(`/v1/vaults/${vaultId}/secrets`);
      assert.deepEqual(list.body.secrets.map((x: any) => x.path), ["cmek/existing"]);
      // The one good version is intact.
      assert.equal(cmekDecrypt(k, await readBlob(admin, vaultId, "cmek/existing")).toString("utf8"), plaintext);
      // The audit log recorded no write for any refused value.
      const writes = await admin.get(`/v1/audit/events?action=secret.write&limit=1000`);
      const mine = writes.body.events.filter((e: any) => e.details?.vault_id === vaultId);
      assert.equal(mine.length, 1, JSON.stringify(mine));
    });

    test("edge shapes that are well-formed blobs are accepted: the 29-byte minimum (empty plaintext), a long value", async () => {
      const vaultId = await newVault("cmek-edges");
      const k = key();
      await enableCmek(admin, vaultId, k);
      const empty = cmekEncrypt(k, "");
      assert.equal(Buffer.from(empty, "base64").length, 29);
      assert.equal((await admin.put(s(vaultId, "edge/empty"), { value: empty })).status, 201);
      assert.equal(await readBlob(admin, vaultId, "edge/empty"), empty);
      assert.equal(cmekDecrypt(k, empty).length, 0);
      const big = plain("big").repeat(500);
      const bigBlob = cmekEncrypt(k, big);
      assert.equal((await admin.put(s(vaultId, "edge/big"), { value: bigBlob })).status, 201);
      assert.equal(cmekDecrypt(k, await readBlob(admin, vaultId, "edge/big")).toString("utf8"), big);
    });

    test("a CMEK blob reads back byte-identical with cmek_encrypted: true, at every read route; the wrong key fails", async () => {
      const vaultId = await newVault("cmek-roundtrip");
      const k = key();
      await enableCmek(admin, vaultId, k);
      const wrong = cmekKey();
      const written: Array<{ version: number; blob: string; plaintext: string }> = [];
      for (let i = 0; i < 3; i++) {
        const plaintext = plain(`roundtrip${i}`);
        const blob = cmekEncrypt(k, plaintext);
        const res = await admin.put(s(vaultId, "app/db-password"), { value: blob, type: "password", metadata: { i } });
        assert.equal(res.status, 201, res.text);
        assert.ok(!("value" in res.body));
        written.push({ version: res.body.version, blob, plaintext });
      }
      const latest = await admin.get(s(vaultId, "app/db-password"));
      assert.equal(latest.status, 200, latest.text);
      assert.equal(latest.body.cmek_encrypted, true);
      assert.equal(latest.body.value, written[2]!.blob);
      assert.equal(latest.body.type, "password");
      for (const w of written) {
        const byQuery = await readBlob(admin, vaultId, "app/db-password", { version: w.version });
        const byRoute = await admin.get(`/v1/vaults/${vaultId}/secret-version/app/db-password/${w.version}`);
        assert.equal(byRoute.status, 200, byRoute.text);
        assert.equal(byRoute.body.cmek_encrypted, true);
        for (const got of [byQuery, byRoute.body.value as string]) {
          assert.equal(got, w.blob, "the blob did not come back byte for byte");
          assert.equal(cmekDecrypt(k, got).toString("utf8"), w.plaintext);
          assert.throws(() => cmekDecrypt(wrong, got), "the wrong key opened a blob");
        }
      }
      // A plain vault answers cmek_encrypted: false.
      const plainVault = await newVault("plain");
      const v = plain("plain-value");
      assert.equal((await admin.put(s(plainVault, "p"), { value: v })).status, 201);
      const read = await admin.get(s(plainVault, "p"));
      assert.equal(read.body.cmek_encrypted, false, read.text);
      assert.equal(read.body.value, v);
    });

    test("rotate-generate in a CMEK vault is refused with a 4xx and stores nothing", async () => {
      const vaultId = await newVault("cmek-generate");
      const k = key();
      await enableCmek(admin, vaultId, k);
      const blob = cmekEncrypt(k, plain("before-generate"));
      assert.equal((await admin.put(s(vaultId, "gen/x"), { value: blob })).status, 201);
      for (const path of ["gen/x", "gen/new"]) {
        const res = await admin.post(`/v1/vaults/${vaultId}/secret-rotate/${path}`, { length: 32, charset: "hex" });
        assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status} ${res.text}`);
        assert.match(String(res.headers.get("content-type")), /^application\/problem\+json/);
        assert.equal(typeof res.body.code, "string");
      }
      const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/gen/x`);
      assert.deepEqual(versions.body.versions.map((v: any) => v.version), [1]);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/gen/new`)).status, 404);
      assert.equal(await readBlob(admin, vaultId, "gen/x"), blob);
    });

    test("DELETE /cmek: new writes may be plain again; earlier CMEK versions still read back as CMEK blobs", async () => {
      const vaultId = await newVault("cmek-disable");
      const k = key();
      await enableCmek(admin, vaultId, k);
      const cmekPlain = plain("under-cmek");
      const blob = cmekEncrypt(k, cmekPlain);
      assert.equal((await admin.put(s(vaultId, "mixed/a"), { value: blob })).status, 201);
      assert.equal((await admin.put(s(vaultId, "only-cmek"), { value: cmekEncrypt(k, plain("only")) })).status, 201);

      const off = await admin.delete(cmekUrl(vaultId));
      assert.equal(off.status, 200, off.text);
      assert.equal(off.body.cmek_enabled, false, off.text);
      assert.ok(!("cmek_fingerprint" in off.body), off.text);
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_enabled, false);
      // Idempotent.
      const offAgain = await admin.delete(cmekUrl(vaultId));
      assert.equal(offAgain.status, 200, offAgain.text);
      assert.equal(offAgain.body.cmek_enabled, false);

      // A plain value is accepted now, on the same path (a new version) and on a new one.
      const plainValue = plain("after-disable");
      const w = await admin.put(s(vaultId, "mixed/a"), { value: plainValue });
      assert.equal(w.status, 201, w.text);
      assert.equal(w.body.version, 2);
      assert.equal((await admin.put(s(vaultId, "mixed/new"), { value: plainValue })).status, 201);
      // rotate-generate works again.
      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-rotate/mixed/generated`, {})).status, 201);

      const latest = await admin.get(s(vaultId, "mixed/a"));
      assert.equal(latest.body.value, plainValue);
      assert.equal(latest.body.cmek_encrypted, false, latest.text);
      const old = await readBlob(admin, vaultId, "mixed/a", { version: 1 });
      assert.equal(old, blob, "the earlier CMEK version changed");
      assert.equal(cmekDecrypt(k, old).toString("utf8"), cmekPlain);
      const onlyCmek = await readBlob(admin, vaultId, "only-cmek");
      assert.ok(cmekOpens(k, onlyCmek));
      assert.equal((await admin.get(s(vaultId, "mixed/new"))).body.cmek_encrypted, false);

      // Enabling again (any key) makes blobs mandatory again.
      const k2 = key();
      await enableCmek(admin, vaultId, k2);
      assertProblem(await admin.put(s(vaultId, "mixed/a"), { value: plain("plain-again") }), 400, "cmek_value_malformed");
      assert.equal((await admin.put(s(vaultId, "mixed/a"), { value: cmekEncrypt(k2, plain("k2")) })).status, 201);
    });

    test("agents may not manage CMEK (403), and their writes to a CMEK vault are checked the same way", async () => {
      const vaultId = await newVault("cmek-agent");
      const k = key();
      await enableCmek(admin, vaultId, k);
      const created = await admin.post("/v1/agents", { name: "cmek-agent", vault_ids: [vaultId] });
      assert.equal(created.status, 201, created.text);
      sensitive.push(created.body.api_key);
      // Every secret permission through a policy; managing the vault stays with those who manage it.
      await grant(admin, vaultId, { type: "agent", id: created.body.agent.id });
      const token = await api(deployment.server.url).post("/v1/auth/agent-token", { api_key: created.body.api_key });
      assert.equal(token.status, 200, token.text);
      sensitive.push(token.body.access_token);
      const agent = api(deployment.server.url, token.body.access_token);
      const other = cmekKey();
      for (const res of [
        await agent.post(cmekUrl(vaultId), { fingerprint: other.fingerprint }),
        await agent.delete(cmekUrl(vaultId)),
      ]) {
        assert.equal(res.status, 403, res.text);
      }
      assert.equal((await admin.get(`/v1/vaults/${vaultId}`)).body.cmek_fingerprint, k.fingerprint);
      assertProblem(await agent.put(s(vaultId, "agent/x"), { value: plain("agent-plain") }), 400, "cmek_value_malformed");
      const blob = cmekEncrypt(k, plain("agent-blob"));
      assert.equal((await agent.put(s(vaultId, "agent/x"), { value: blob })).status, 201);
      const read = await agent.get(s(vaultId, "agent/x"));
      assert.equal(read.body.value, blob);
      assert.equal(read.body.cmek_encrypted, true);
    });

    test("enable and disable are audited with the fingerprint, never a key or value", async () => {
      const vaultId = await newVault("cmek-audit");
      const k = key();
      await enableCmek(admin, vaultId, k);
      assert.equal((await admin.delete(cmekUrl(vaultId))).status, 200);
      const res = await admin.get(`/v1/audit/events?resource_id=${vaultId}&limit=1000`);
      assert.equal(res.status, 200, res.text);
      const actions = res.body.events.map((e: any) => e.action);
      assert.ok(actions.includes("vault.cmek_enable"), actions.join(","));
      assert.ok(actions.includes("vault.cmek_disable"), actions.join(","));
      const enable = res.body.events.find((e: any) => e.action === "vault.cmek_enable");
      assert.equal(enable.details.fingerprint, k.fingerprint);
      for (const form of keyStrings(k)) assert.ok(!res.text.includes(form), "a key form is in the audit log");
    });

    test("CMEK needs a Business or Enterprise plan: pro answers 403 resource_limit_exceeded, business works", async () => {
      const k = key();
      const proDeployment = await deploy(kind, { env: { SHARDVAULT_PLAN: "pro" } });
      extraDeployments.push(proDeployment);
      const pro = proDeployment.server;
      extraOutputs.push(pro.output);
      sensitive.push(pro.adminKey);
      const proAdmin = api(pro.url, pro.adminKey);
      const vault = await proAdmin.post("/v1/vaults", { name: "pro" });
      assert.equal(vault.status, 201, vault.text);
      const refused = await proAdmin.post(cmekUrl(vault.body.id), { fingerprint: k.fingerprint });
      assertProblem(refused, 403, refused.body?.code ?? "?");
      assert.equal(refused.body.type, "resource_limit_exceeded", refused.text);
      assert.equal((await proAdmin.get(`/v1/vaults/${vault.body.id}`)).body.cmek_enabled, false);
      const rotation = await proAdmin.post(`/v1/vaults/${vault.body.id}/cmek-rotate`, { new_fingerprint: cmekKey().fingerprint }, {
        headers: { "x-cmek-old-key": k.b64, "x-cmek-new-key": cmekKey().b64 },
      });
      assert.equal(rotation.status, 403, rotation.text);
      assert.equal(rotation.body.type, "resource_limit_exceeded", rotation.text);
      // A plain write still works on pro.
      assert.equal((await proAdmin.put(s(vault.body.id, "x"), { value: plain("pro") })).status, 201);
      await pro.stop();

      const businessDeployment = await deploy(kind, { env: { SHARDVAULT_PLAN: "business" } });
      extraDeployments.push(businessDeployment);
      const business = businessDeployment.server;
      extraOutputs.push(business.output);
      sensitive.push(business.adminKey);
      const bizAdmin = api(business.url, business.adminKey);
      const bizVault = await bizAdmin.post("/v1/vaults", { name: "business" });
      await enableCmek(bizAdmin, bizVault.body.id, k);
      await business.stop();
    });

    test("the server output holds no key, value or API key", async () => {
      assertNoLeak(deployment.server.output(), sensitive);
      for (const out of extraOutputs) assertNoLeak(out(), sensitive);
    });
  });
}
