/**
 * Cross-check against the audited npm package `shamir-secret-sharing` (test-only oracle). Its shares use the
 * same layout as ours, `[y bytes…, x]` with x in the last byte (see its src/index.ts: `share[secretLength] =
 * xCoordinates[i]`), and the same field polynomial 0x11b, so shares pass between the two without conversion.
 * Its argument order differs: `split(secret, shares, threshold)`, async.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import * as oracle from "shamir-secret-sharing";
import { combine, split } from "../src/index.js";

const sharing = fc
  .integer({ min: 2, max: 10 })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n })))
  .chain(([n, t]) =>
    fc.record({
      n: fc.constant(n),
      t: fc.constant(t),
      chosen: fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i),
        { minLength: t, maxLength: t },
      ),
    }),
  );

test("oracle: t of our shares combine to the secret in shamir-secret-sharing", async () => {
  await fc.assert(
    fc.asyncProperty(sharing, fc.uint8Array({ minLength: 1, maxLength: 48 }), async ({ n, t, chosen }, secret) => {
      const shares = split(secret, t, n);
      assert.deepEqual(await oracle.combine(chosen.map((i) => shares[i]!)), secret);
    }),
    { numRuns: 100 },
  );
});

test("oracle: t of shamir-secret-sharing's shares combine to the secret in ours", async () => {
  await fc.assert(
    fc.asyncProperty(sharing, fc.uint8Array({ minLength: 1, maxLength: 48 }), async ({ n, t, chosen }, secret) => {
      const shares = await oracle.split(secret, n, t);
      assert.deepEqual(combine(chosen.map((i) => shares[i]!)), secret);
    }),
    { numRuns: 100 },
  );
});
