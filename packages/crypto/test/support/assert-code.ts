import assert from "node:assert/strict";
import { CryptoError, type CryptoErrorCode } from "../../src/index.js";

/** Asserts that `fn` throws a CryptoError with `code` and a message matching `message`. */
export function throwsCode(fn: () => unknown, code: CryptoErrorCode, message: RegExp = /./): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected a CryptoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}
