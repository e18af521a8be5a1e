/** The harness's own checks: assertNoLeak catches what it must and lets the one shown-once line through. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertNoLeak } from "./support/harness.js";

const KEY = "1ck_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
const START = [
  "[shardvault] database: embedded PostgreSQL (PGlite) in /tmp/x/pgdata",
  `Admin API key (shown once): ${KEY}`,
  "[shardvault] listening on http://127.0.0.1:1234",
  "",
].join("\n");

test("assertNoLeak accepts clean output with the admin key on its one line", () => {
  assertNoLeak(START, [KEY, "value-one-1234567890", "short"]);
  assertNoLeak("[shardvault] listening on http://127.0.0.1:1\n", ["anything-at-all"]);
});

test("assertNoLeak catches a secret value, verbatim or encoded", () => {
  const value = "sk_live_very_secret_value";
  assert.throws(() => assertNoLeak(`${START}[shardvault] wrote ${value}\n`, [value]), /appears in the server output/);
  assert.throws(() => assertNoLeak(`${START}${Buffer.from(value).toString("base64")}\n`, [value]), /encoded/);
  assert.throws(() => assertNoLeak(`${START}${Buffer.from(value).toString("hex")}\n`, [value]), /encoded/);
});

test("assertNoLeak catches the admin key outside its line, a second key line, and unlisted keys", () => {
  assert.throws(() => assertNoLeak(`${START}[shardvault] request with ${KEY}\n`, [KEY]));
  assert.throws(() => assertNoLeak(`${START}${START}`, [KEY]), /appears 2 times/);
  const other = "1ck_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";
  assert.throws(() => assertNoLeak(`${START}${other}\n`, []), /API-key-like/);
  assert.throws(() => assertNoLeak(`${START}ocv_agentkeyagentkey\n`, []), /API-key-like/);
  // A configured key is never printed at all.
  assert.throws(() => assertNoLeak(`[shardvault] key ${KEY}\n`, [KEY]));
});
