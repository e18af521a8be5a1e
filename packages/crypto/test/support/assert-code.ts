import assert from "node:assert/strict";
import { CryptoError, type CryptoErrorCode } from "../../src/index.js";

/** Checks that `err` is a CryptoError with `code` and a message matching `message`. */
function isCode(code: CryptoErrorCode, message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof CryptoError, `expected a CryptoError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

/** Asserts that `fn` throws a CryptoError with `code` and a message matching `message`. */
export function throwsCode(fn: () => unknown, code: CryptoErrorCode, message: RegExp = /./): void {
  assert.throws(fn, isCode(code, message));
}

/** Asserts that `fn` rejects with a CryptoError with `code` and a message matching `message`. */
export async function rejectsCode(fn: () => Promise<unknown>, code: CryptoErrorCode, message: RegExp = /./): Promise<void> {
  await assert.rejects(fn, isCode(code, message));
}
