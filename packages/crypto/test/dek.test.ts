import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  commitDek,
  COMMITMENT_LENGTH,
  DEK_LENGTH,
  deriveValueKey,
  encodeContext,
  generateDek,
  verifyDekCommitment,
} from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";
import { requireExternal, WYCHEPROOF_DIR, WYCHEPROOF_INSTALL } from "./support/external.js";

const dek = generateDek();
const context = encodeContext({ vault: "v-1", path: "db/password", version: 3 });
const otherContext = encodeContext({ vault: "v-1", path: "db/password", version: 4 });

test("generateDek returns 32 fresh random bytes each call", () => {
  assert.equal(DEK_LENGTH, 32);
  assert.equal(dek.length, 32);
  assert.notDeepEqual(generateDek(), generateDek());
});

test("verifyDekCommitment accepts the commitment of the same DEK and context", () => {
  const commitment = commitDek(dek, context);
  assert.equal(commitment.length, COMMITMENT_LENGTH);
  assert.equal(verifyDekCommitment(dek, context, commitment), true);
  assert.deepEqual(commitDek(dek, context), commitment, "deterministic");
});

test("verifyDekCommitment rejects a different DEK", () => {
  assert.equal(verifyDekCommitment(generateDek(), context, commitDek(dek, context)), false);
});

test("verifyDekCommitment rejects a different context", () => {
  assert.equal(verifyDekCommitment(dek, otherContext, commitDek(dek, context)), false);
});

test("verifyDekCommitment rejects a commitment with any byte flipped, or truncated", () => {
  const commitment = commitDek(dek, context);
  for (let i = 0; i < commitment.length; i++) {
    const flipped = Buffer.from(commitment);
    flipped[i]! ^= 0x01;
    assert.equal(verifyDekCommitment(dek, context, flipped), false, `byte ${i}`);
  }
  assert.equal(verifyDekCommitment(dek, context, commitment.subarray(0, 31)), false);
});

test("the commitment is HMAC-SHA256 under an HKDF-derived key, not under the raw DEK (key separation)", () => {
  const commitment = commitDek(dek, context);
  assert.notDeepEqual(commitment, createHmac("sha256", dek).update(context).digest());
  // The documented derivation: HKDF-SHA256(DEK, empty salt, "shardvault/v1/dek-commitment-key"). Stored
  // commitments must stay verifiable, so the derivation is pinned here.
  const commitmentKey = Buffer.from(hkdfSync("sha256", dek, Buffer.alloc(0), "shardvault/v1/dek-commitment-key", 32));
  assert.deepEqual(commitment, createHmac("sha256", commitmentKey).update(context).digest());
});

test("the value key is not the DEK, is deterministic, and differs from the commitment key", () => {
  const valueKey = deriveValueKey(dek);
  assert.equal(valueKey.length, 32);
  assert.notDeepEqual(valueKey, dek);
  assert.deepEqual(deriveValueKey(dek), valueKey);
  assert.notDeepEqual(deriveValueKey(generateDek()), valueKey);
  const commitmentKey = new Uint8Array(hkdfSync("sha256", dek, Buffer.alloc(0), "shardvault/v1/dek-commitment-key", 32));
  assert.notDeepEqual(valueKey, commitmentKey);
});

test("commitDek and deriveValueKey refuse a DEK that is not 32 bytes", () => {
  throwsCode(() => commitDek(new Uint8Array(16), context), "invalid_argument", /"dek" expected Uint8Array of length 32, got 16/);
  throwsCode(() => deriveValueKey(new Uint8Array(33)), "invalid_argument", /"dek" expected Uint8Array of length 32/);
});

interface MacGroup {
  tagSize: number;
  tests: Array<{ tcId: number; key: string; msg: string; tag: string; result: string }>;
}

test("platform primitive: node:crypto HMAC-SHA256 (what commitDek uses) passes Wycheproof hmac_sha256_test.json", (t) => {
  const path = join(WYCHEPROOF_DIR, "hmac_sha256_test.json");
  if (!requireExternal(t, path, WYCHEPROOF_INSTALL)) return;
  const groups = (JSON.parse(readFileSync(path, "utf8")) as { testGroups: MacGroup[] }).testGroups;
  let ran = 0;
  for (const group of groups) {
    for (const v of group.tests) {
      // Groups with tagSize < 256 hold truncated tags: compare that many leading bytes.
      const mac = createHmac("sha256", Buffer.from(v.key, "hex")).update(Buffer.from(v.msg, "hex")).digest();
      const matches = mac.subarray(0, group.tagSize / 8).equals(Buffer.from(v.tag, "hex"));
      assert.equal(matches, v.result === "valid", `tcId ${v.tcId} (${v.result})`);
      ran++;
    }
  }
  t.diagnostic(`Wycheproof HMAC-SHA256 vectors run: ${ran}`);
  assert.ok(ran > 0, "no vector ran");
});
