/**
 * The `X-Client-Share` header of client-custody vaults (2-of-2 XOR, 2-of-3 Shamir, strict 2-of-3 XOR), on PGlite and on
 * PostgreSQL, on every read route (latest, `?version=`, `secret-version/{path}/{v}`):
 *
 * - missing or blank → 400 client_share_required;
 * - bad base64 (alphabet, padding, whitespace, non-canonical bits), bad check, unknown format version or
 *   scheme, wrong length, a scheme and index that are no custody mode's client share → 400 client_share_malformed;
 * - a share of another secret, of the same path in another vault, or of another version of the path
 *   → 400 client_share_mismatch, the detail naming the version when it is one of the same path; a share of
 *   another client-custody mode is a share of another secret too (every combination of modes);
 * - a well-formed share with the right tag and wrong share bytes (a flipped share byte with its check
 *   recomputed; zero bytes; another version's bytes under this version's tag; random bytes) → 400
 *   client_share_invalid; so is this version's tag on another client mode's scheme and index;
 * - never a 5xx and never a value for any of these; refused reads do not use up `max_access_count`; they are
 *   audited as `secret.read_refused` with the reason, without the share;
 * - header names are case-insensitive; multi-HSM and plain vaults need no share.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, rawRequest, secretValue, type Api, type ApiResponse } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import {
  assertValue,
  createVault,
  editShare,
  malformedShares,
  mode,
  putSecret,
  schemeByte,
  SHARE_OFFSET,
  TAG_OFFSET,
  wrongShareBytes,
  type ModeInfo,
} from "./support/mpc-support.js";

const CLIENT_MODES = [mode("2of2_client_custody"), mode("2of3_client_custody"), mode("2of3_client_required")];

interface Fixture {
  m: ModeInfo;
  vaultId: string;
  otherVaultId: string;
  /** path@version → value / share */
  values: Map<string, string>;
  shares: Map<string, string>;
}

for (const kind of DATABASE_KINDS) {
  describe(`mpc client shares on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    const sensitive: string[] = [];
    const fixtures = new Map<string, Fixture>();

    /** The three read routes of one version; `latest` only when it is the newest. */
    const routes = (f: Fixture, path: string, version: number, latest: boolean) => [
      ...(latest ? [`/v1/vaults/${f.vaultId}/secrets/${path}`] : []),
      `/v1/vaults/${f.vaultId}/secrets/${path}?version=${version}`,
      `/v1/vaults/${f.vaultId}/secret-version/${path}/${version}`,
    ];

    /** Asserts a 400 with `code` and no value on every route. */
    async function refusedEverywhere(f: Fixture, path: string, version: number, latest: boolean, header: string | undefined, code: string, detail?: RegExp, label = "") {
      for (const url of routes(f, path, version, latest)) {
        const res = await admin.get(url, { headers: header === undefined ? {} : { "X-Client-Share": header } });
        assertRefused(res, code, detail, `${f.m.name} ${label} ${url}`);
      }
    }

    function assertRefused(res: ApiResponse, code: string, detail: RegExp | undefined, context: string) {
      assert.ok(res.status < 500, `${context}: a 5xx for client input: ${res.status} ${res.text}`);
      assertProblem(res, 400, code, detail, context);
      assert.ok(!("value" in res.body), context);
      for (const v of fixtures.values()) for (const value of v.values.values()) assert.ok(!res.text.includes(value), `${context}: a value in the answer`);
    }

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      for (const m of CLIENT_MODES) {
        const vaultId = (await createVault(admin, `shares ${m.name}`, { custody_mode: m.name })).id;
        const otherVaultId = (await createVault(admin, `shares other ${m.name}`, { custody_mode: m.name })).id;
        const f: Fixture = { m, vaultId, otherVaultId, values: new Map(), shares: new Map() };
        for (const [vault, path, key] of [
          [vaultId, "share/one", "share/one@1"],
          [vaultId, "share/one", "share/one@2"],
          [vaultId, "share/two", "share/two@1"],
          [otherVaultId, "share/one", "other:share/one@1"],
        ] as const) {
          const v = secretValue(`cs-${key}`);
          const w = await putSecret(admin, vault, path, v, m);
          assert.equal(`${path}@${w.version}`, key.replace(/^other:/, ""));
          f.values.set(key, v);
          f.shares.set(key, w.client_share!);
          sensitive.push(v, w.client_share!);
        }
        fixtures.set(m.name, f);
      }
    });

    after(async () => deployment?.dispose());

    for (const m of CLIENT_MODES) {
      const f = () => fixtures.get(m.name)!;

      test(`${m.name}: the right share reads on every route`, async () => {
        const x = f();
        for (const url of routes(x, "share/one", 1, false)) {
          assertValue(await admin.get(url, { headers: { "X-Client-Share": x.shares.get("share/one@1")! } }), x.values.get("share/one@1")!, 1, url);
        }
        for (const url of routes(x, "share/one", 2, true)) {
          assertValue(await admin.get(url, { headers: { "X-Client-Share": x.shares.get("share/one@2")! } }), x.values.get("share/one@2")!, 2, url);
        }
        // Surrounding whitespace is not part of the share.
        assertValue(
          await admin.get(`/v1/vaults/${x.vaultId}/secrets/share/two`, { headers: { "X-Client-Share": ` ${x.shares.get("share/two@1")!} ` } }),
          x.values.get("share/two@1")!,
          1,
        );
      });

      test(`${m.name}: the header name is case-insensitive`, async () => {
        const x = f();
        const target = new URL(deployment.server.url);
        for (const name of ["X-Client-Share", "x-client-share", "X-CLIENT-SHARE", "x-CLIENT-share"]) {
          const res = await rawRequest(deployment.server.url, {
            method: "GET",
            path: `/v1/vaults/${x.vaultId}/secrets/share/two`,
            headers: { host: target.host, authorization: `Bearer ${deployment.server.adminKey}`, [name]: x.shares.get("share/two@1")! },
          });
          assert.equal(res.status, 200, `${name}: ${res.text}`);
          assert.equal(res.body.value, x.values.get("share/two@1"));
        }
      });

      test(`${m.name}: missing or blank share → client_share_required`, async () => {
        const x = f();
        for (const header of [undefined, "", "   "]) {
          await refusedEverywhere(x, "share/one", 2, true, header, "client_share_required", /X-Client-Share/i, JSON.stringify(header));
        }
      });

      test(`${m.name}: malformed shares → client_share_malformed`, async () => {
        const x = f();
        const share = x.shares.get("share/one@2")!;
        const variants = malformedShares(share, m);
        assert.ok(variants.length >= 18);
        for (const { label, header } of variants) await refusedEverywhere(x, "share/one", 2, true, header, "client_share_malformed", undefined, label);
      });

      test(`${m.name}: another secret's or version's share → client_share_mismatch`, async () => {
        const x = f();
        // Another version of the same path: named.
        await refusedEverywhere(x, "share/one", 2, true, x.shares.get("share/one@1")!, "client_share_mismatch", /version 1 of share\/one/, "v1 share for v2");
        await refusedEverywhere(x, "share/one", 1, false, x.shares.get("share/one@2")!, "client_share_mismatch", /version 2 of share\/one/, "v2 share for v1");
        // Another path, or the same path in another vault: another secret.
        await refusedEverywhere(x, "share/one", 2, true, x.shares.get("share/two@1")!, "client_share_mismatch", /another secret/, "other path");
        await refusedEverywhere(x, "share/two", 1, true, x.shares.get("share/one@1")!, "client_share_mismatch", /another secret/, "other path (v1)");
        await refusedEverywhere(x, "share/one", 1, false, x.shares.get("other:share/one@1")!, "client_share_mismatch", undefined, "same path, other vault");
      });

      test(`${m.name}: right tag, wrong share bytes → client_share_invalid`, async () => {
        const x = f();
        const share = x.shares.get("share/one@2")!;
        const forged = [
          { label: "first share byte flipped", header: wrongShareBytes(share, 0) },
          { label: "last share byte flipped", header: wrongShareBytes(share, 31) },
          { label: "middle share byte flipped", header: wrongShareBytes(share, 17) },
          { label: "zero share bytes", header: editShare(share, (b) => void b.fill(0, SHARE_OFFSET, SHARE_OFFSET + 32)) },
          {
            // Version 1's share bytes relabelled with version 2's tag: well-formed, the right tag, the wrong share.
            label: "another version's bytes under this version's tag",
            header: editShare(x.shares.get("share/one@1")!, (b) => void Buffer.from(share, "base64").copy(b, TAG_OFFSET, TAG_OFFSET, TAG_OFFSET + 8)),
          },
        ];
        for (const { label, header } of forged) await refusedEverywhere(x, "share/one", 2, true, header, "client_share_invalid", undefined, label);
        // Random share bytes under the right header and tag: never a value, never a 5xx.
        for (let i = 0; i < 24; i++) {
          const header = editShare(share, (b) => void randomBytes(32).copy(b, SHARE_OFFSET));
          const res = await admin.get(`/v1/vaults/${x.vaultId}/secrets/share/one`, { headers: { "X-Client-Share": header } });
          assertRefused(res, "client_share_invalid", undefined, `random share #${i}`);
        }
        // And the right share still reads afterwards.
        assertValue(await admin.get(`/v1/vaults/${x.vaultId}/secrets/share/one`, { headers: { "X-Client-Share": share } }), x.values.get("share/one@2")!, 2);
      });

      test(`${m.name}: random headers are refused with a 400 naming what is wrong, never a 5xx or a value`, async () => {
        const x = f();
        const share = x.shares.get("share/two@1")!;
        const malformed = (header: string, label: string) => ({ header, label, code: "client_share_malformed" });
        const cases = [
          // Random bytes of a share's length: no format version, no valid check.
          ...Array.from({ length: 12 }, (_, i) => malformed(randomBytes(47).toString("base64"), `random 47 bytes #${i}`)),
          ...Array.from({ length: 6 }, (_, i) => malformed(randomBytes(1 + i * 9).toString("base64"), `random ${1 + i * 9} bytes`)),
          // A well-formed share (its check recomputed) whose share bytes and tag are random: another secret's.
          ...Array.from({ length: 12 }, (_, i) => ({
            header: editShare(share, (b) => void randomBytes(44).copy(b, 3, 0, 40)),
            label: `random share bytes and tag #${i}`,
            code: "client_share_mismatch",
          })),
          malformed(share.slice(0, 32), "truncated"),
          malformed(share + share, "doubled"),
          malformed("A".repeat(4096), "4096 A"),
          malformed("\u00e9\u00e9", "Latin-1 letters"),
        ];
        for (const { header, label, code } of cases) {
          const res = await admin.get(`/v1/vaults/${x.vaultId}/secrets/share/two`, { headers: { "X-Client-Share": header } });
          assertProblem(res, 400, code, undefined, label);
          assert.ok(!("value" in res.body), label);
        }
      });

      test(`${m.name}: refused reads do not use up max_access_count`, async () => {
        const x = f();
        const v = secretValue("once");
        sensitive.push(v);
        const w = await putSecret(admin, x.vaultId, "share/once", v, m, { max_access_count: 1 });
        sensitive.push(w.client_share!);
        const url = `/v1/vaults/${x.vaultId}/secrets/share/once`;
        assertRefused(await admin.get(url), "client_share_required", undefined, "none");
        assertRefused(await admin.get(url, { headers: { "X-Client-Share": wrongShareBytes(w.client_share!) } }), "client_share_invalid", undefined, "wrong");
        assertRefused(await admin.get(url, { headers: { "X-Client-Share": x.shares.get("share/two@1")! } }), "client_share_mismatch", undefined, "other");
        assertValue(await admin.get(url, { headers: { "X-Client-Share": w.client_share! } }), v, 1, "first real read");
        const again = await admin.get(url, { headers: { "X-Client-Share": w.client_share! } });
        assert.equal(again.status, 410, again.text);
        assert.ok(!again.text.includes(v));
      });

      test(`${m.name}: refused reads are audited with their reason and without the share`, async () => {
        const x = f();
        const res = await admin.get(`/v1/audit/events?action=secret.read_refused&limit=1000`);
        assert.equal(res.status, 200, res.text);
        const reasons = new Set(res.body.events.filter((e: any) => e.details?.vault_id === x.vaultId).map((e: any) => e.details.reason));
        for (const code of ["client_share_required", "client_share_malformed", "client_share_mismatch", "client_share_invalid"]) {
          assert.ok(reasons.has(code), `no secret.read_refused event with reason ${code}: ${[...reasons].join(", ")}`);
        }
        for (const s of x.shares.values()) assert.ok(!res.text.includes(s));
      });
    }

    test("every cross-mode combination: a client share of another client mode → client_share_mismatch (another secret's)", async () => {
      for (const vaultMode of CLIENT_MODES) {
        for (const shareMode of CLIENT_MODES.filter((o) => o.name !== vaultMode.name)) {
          const x = fixtures.get(vaultMode.name)!;
          const source = fixtures.get(shareMode.name)!;
          // Same path and version numbers in another vault of the other mode: well-formed, another secret's.
          for (const [key, share] of source.shares) {
            const [path, version] = key.replace(/^other:/, "").split("@") as [string, string];
            const latest = path === "share/two" || version === "2";
            const detail = new RegExp(`another secret.*${shareMode.name}`);
            await refusedEverywhere(x, path, Number(version), latest, share, "client_share_mismatch", detail, `${shareMode.name} share ${key} in a ${vaultMode.name} vault`);
          }
        }
      }
    });

    test("this version's tag on another client mode's scheme and index → client_share_invalid", async () => {
      for (const vaultMode of CLIENT_MODES) {
        const x = fixtures.get(vaultMode.name)!;
        for (const other of CLIENT_MODES.filter((o) => o.name !== vaultMode.name)) {
          // A share never issued: this version's own share relabelled as the other mode's client share.
          const relabelled = editShare(x.shares.get("share/one@2")!, (b) => {
            b[1] = schemeByte(other.scheme);
            b[2] = other.clientIndex!;
          });
          await refusedEverywhere(x, "share/one", 2, true, relabelled, "client_share_invalid", undefined, `${vaultMode.name} share relabelled as ${other.name}`);
        }
      }
    });

    test("multi-HSM and plain vaults read without a share, and ignore one sent by any client mode", async () => {
      const m = mode("2of3_multi_hsm");
      const anyShares = CLIENT_MODES.map((c) => fixtures.get(c.name)!.shares.get("share/one@1")!);
      for (const body of [{ custody_mode: m.name }, {}]) {
        const vault = await createVault(admin, `no share ${JSON.stringify(body)}`, body);
        const v = secretValue("noshare");
        sensitive.push(v);
        await putSecret(admin, vault.id, "x/y", v, "custody_mode" in body ? m : undefined);
        assertValue(await admin.get(`/v1/vaults/${vault.id}/secrets/x/y`), v, 1);
        assertValue(await admin.get(`/v1/vaults/${vault.id}/secret-version/x/y/1`), v, 1);
        for (const share of anyShares) {
          assertValue(await admin.get(`/v1/vaults/${vault.id}/secrets/x/y`, { headers: { "X-Client-Share": share } }), v, 1, `${JSON.stringify(body)} with a share`);
        }
      }
    });

    test("the server output holds no value, share or key", async () => {
      await deployment.server.stop();
      assertNoLeak(deployment.server.output(), sensitive);
    });
  });
}
