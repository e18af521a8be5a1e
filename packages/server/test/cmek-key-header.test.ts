/**
 * The CMEK rotation keys from their headers (cmek/cmek-format.ts keyFromHeader): decoded into a buffer of their
 * own, so that wiping it leaves no copy of the key behind; in particular none in Node's shared allocation
 * pool, where `Buffer.from(text, "base64")` puts small buffers. Also when the key does not match its
 * fingerprint. The key, its header and the searches below never copy the key into the pool themselves.
 */
import assert from "node:assert/strict";
import { createHash, getRandomValues } from "node:crypto";
import { test } from "node:test";
import { wipe } from "@shardvault/crypto";
import { keyFromHeader } from "../src/cmek/cmek-format.js";
import { AppError } from "../src/errors.js";

/** The pool small Buffers are carved from right now. */
const currentPool = () => Buffer.from("probe").buffer;

function freshKey() {
  const key = getRandomValues(new Uint8Array(32));
  const view = Buffer.from(key.buffer, key.byteOffset, key.length);
  return { key, header: view.toString("base64"), fingerprint: createHash("sha256").update(key).digest("hex") };
}

function assertNotInPools(pools: Set<ArrayBufferLike>, key: Uint8Array, context: string) {
  for (const pool of pools) assert.equal(Buffer.from(pool as ArrayBuffer).indexOf(key), -1, `${context}: the key is in the shared buffer pool`);
}

test("a rotation key is decoded outside the shared pool: once wiped, no copy is left there", () => {
  for (let i = 0; i < 20; i++) {
    const { key, header, fingerprint } = freshKey();
    const pools = new Set([currentPool()]);
    const decoded = keyFromHeader(header, "x-cmek-new-key", fingerprint);
    pools.add(currentPool());
    assert.equal(Buffer.compare(Buffer.from(decoded.buffer, decoded.byteOffset, decoded.length), Buffer.from(key.buffer)), 0, "decoded to the key");
    wipe(decoded);
    assertNotInPools(pools, key, `key #${i}`);
  }
});

test("a key that does not match its fingerprint is refused (400 cmek_key_mismatch) and leaves no copy in the pool", () => {
  for (let i = 0; i < 20; i++) {
    const { key, header } = freshKey();
    const pools = new Set([currentPool()]);
    assert.throws(
      () => keyFromHeader(header, "x-cmek-old-key", "0".repeat(64)),
      (error: unknown) => error instanceof AppError && error.status === 400 && error.code === "cmek_key_mismatch",
    );
    pools.add(currentPool());
    assertNotInPools(pools, key, `key #${i}`);
  }
});
