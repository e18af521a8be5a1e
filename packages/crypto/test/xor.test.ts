import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { xorCombine, xorSplit } from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";

test("xorSplit then xorCombine gives the key back", () => {
  const key = new Uint8Array(randomBytes(32));
  const [first, second] = xorSplit(key);
  assert.deepEqual(xorCombine(first, second), key);
});

test("neither XOR share alone is the key, and the two shares differ", () => {
  // Each share is uniformly random on its own; for a 32-byte key a chance match has probability 2^-256.
  const key = new Uint8Array(randomBytes(32));
  const [first, second] = xorSplit(key);
  assert.equal(first.length, key.length);
  assert.equal(second.length, key.length);
  assert.notDeepEqual(first, key);
  assert.notDeepEqual(second, key);
  assert.notDeepEqual(first, second);
});

test("two XOR splits of the same key use fresh randomness", () => {
  const key = new Uint8Array(32);
  assert.notDeepEqual(xorSplit(key)[0], xorSplit(key)[0]);
});

test("property: xorCombine(xorSplit(key)) = key, in either share order", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 128 }), (key) => {
      const [first, second] = xorSplit(key);
      assert.deepEqual(xorCombine(first, second), key);
      assert.deepEqual(xorCombine(second, first), key);
    }),
  );
});

test("xorSplit refuses an empty key and xorCombine refuses shares of different lengths", () => {
  throwsCode(() => xorSplit(new Uint8Array(0)), "invalid_argument", /key must not be empty/);
  throwsCode(() => xorCombine(new Uint8Array(32), new Uint8Array(31)), "invalid_argument", /"second" expected Uint8Array of length 32, got 31/);
});
