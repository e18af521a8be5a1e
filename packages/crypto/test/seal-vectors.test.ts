/**
 * The AES-256-GCM primitive behind `open`, checked with published vectors. `seal` draws its own IV, so each
 * vector is turned into the sealed format (0x01 | IV | CT | tag) and given to `open`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CryptoError, open } from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";
import { parseRsp } from "./support/cavp.js";
import { CAVP_GCM_DIR, CAVP_INSTALL, requireExternal, WYCHEPROOF_DIR, WYCHEPROOF_INSTALL } from "./support/external.js";

const hex = (s: string) => Buffer.from(s, "hex");
const sealedFrom = (iv: string, ct: string, tag: string) => Buffer.concat([Buffer.of(0x01), hex(iv), hex(ct), hex(tag)]);

interface AeadGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: Array<{ tcId: number; key: string; iv: string; aad: string; msg: string; ct: string; tag: string; result: string }>;
}

test("Wycheproof aes_gcm_test.json (256-bit key, 96-bit IV, 128-bit tag) through open", (t) => {
  const path = join(WYCHEPROOF_DIR, "aes_gcm_test.json");
  if (!requireExternal(t, path, WYCHEPROOF_INSTALL)) return;
  const groups = (JSON.parse(readFileSync(path, "utf8")) as { testGroups: AeadGroup[] }).testGroups;
  const ran = { valid: 0, invalid: 0 };
  for (const group of groups) {
    if (group.keySize !== 256 || group.ivSize !== 96 || group.tagSize !== 128) continue;
    for (const v of group.tests) {
      const sealed = sealedFrom(v.iv, v.ct, v.tag);
      const label = `tcId ${v.tcId}`;
      if (v.result === "valid") {
        assert.deepEqual(open(hex(v.key), sealed, hex(v.aad)), hex(v.msg), label);
        ran.valid++;
      } else if (v.result === "invalid") {
        throwsCode(() => open(hex(v.key), sealed, hex(v.aad)), "sealed_auth_failed");
        ran.invalid++;
      } else {
        assert.fail(`${label}: unexpected result ${v.result} in a 96-bit IV group`);
      }
    }
  }
  t.diagnostic(`Wycheproof AES-GCM vectors run: ${ran.valid} valid, ${ran.invalid} invalid`);
  assert.ok(ran.valid > 0, "no valid vector ran");
  assert.ok(ran.invalid > 0, "no invalid vector ran");
});

/** Runs the 96-bit IV, 128-bit tag entries of a CAVP GCM file through open; counts opened and refused (FAIL) entries. */
function runCavp(file: string): { valid: number; fail: number } {
  const entries = parseRsp(readFileSync(join(CAVP_GCM_DIR, file), "utf8")).filter(
    (e) => e.section.Keylen === "256" && e.section.IVlen === "96" && e.section.Taglen === "128",
  );
  const ran = { valid: 0, fail: 0 };
  for (const { section, fields: f, fail } of entries) {
    const sealed = sealedFrom(f.IV!, f.CT!, f.Tag!);
    const label = `${file} PTlen ${section.PTlen} AADlen ${section.AADlen} Count ${f.Count}`;
    if (fail) {
      assert.throws(
        () => open(hex(f.Key!), sealed, hex(f.AAD!)),
        (err) => err instanceof CryptoError && err.code === "sealed_auth_failed",
        label,
      );
      ran.fail++;
    } else {
      assert.deepEqual(open(hex(f.Key!), sealed, hex(f.AAD!)), hex(f.PT!), label);
      ran.valid++;
    }
  }
  return ran;
}

test("NIST CAVP gcmEncryptExtIV256.rsp (96-bit IV, 128-bit tag) through open", (t) => {
  if (!requireExternal(t, join(CAVP_GCM_DIR, "gcmEncryptExtIV256.rsp"), CAVP_INSTALL)) return;
  const ran = runCavp("gcmEncryptExtIV256.rsp");
  t.diagnostic(`CAVP encrypt vectors run: ${ran.valid}`);
  assert.ok(ran.valid > 0, "no vector ran");
  assert.equal(ran.fail, 0, "encrypt files have no FAIL entries");
});

test("NIST CAVP gcmDecrypt256.rsp (96-bit IV, 128-bit tag, FAIL entries refused) through open", (t) => {
  if (!requireExternal(t, join(CAVP_GCM_DIR, "gcmDecrypt256.rsp"), CAVP_INSTALL)) return;
  const ran = runCavp("gcmDecrypt256.rsp");
  t.diagnostic(`CAVP decrypt vectors run: ${ran.valid} valid, ${ran.fail} FAIL`);
  assert.ok(ran.valid > 0, "no valid vector ran");
  assert.ok(ran.fail > 0, "no FAIL vector ran");
});
