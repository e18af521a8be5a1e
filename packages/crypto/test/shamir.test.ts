import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { combine, split, splitAt } from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";
import { refEvaluate, refMul } from "./support/gf-reference.js";

const bytes = (...values: number[]) => Uint8Array.from(values);
const secret32 = () => Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

/** n, t ≤ n, and a random choice of `pick` share indices out of n, in random order. */
const sharing = (maxShares: number, pick: (t: number) => number) =>
  fc
    .integer({ min: 2, max: maxShares })
    .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n })))
    .chain(([n, t]) =>
      fc.record({
        n: fc.constant(n),
        t: fc.constant(t),
        chosen: fc.shuffledSubarray(
          Array.from({ length: n }, (_, i) => i),
          { minLength: pick(t), maxLength: pick(t) },
        ),
      }),
    );

// --- Known answers, computed by hand and with the reference multiply ---------------------------------------

test("combine recovers a hand-computed 1-byte secret: f(x) = 0x01 + 0x02·x gives (1, 0x03) and (2, 0x05)", () => {
  // Without reduction: f(1) = 0x01 ⊕ 0x02 = 0x03, f(2) = 0x01 ⊕ 0x04 = 0x05. Layout [y, x].
  assert.deepEqual(combine([bytes(0x03, 1), bytes(0x05, 2)]), bytes(0x01));
  assert.deepEqual(combine([bytes(0x05, 2), bytes(0x03, 1)]), bytes(0x01));
});

test("combine recovers a secret from shares built with the FIPS-197 products {57}•{83} = {c1}, {57}•{13} = {fe}", () => {
  // f(x) = 0xaa + 0x57·x: f(0x83) = 0xaa ⊕ 0xc1 = 0x6b, f(0x13) = 0xaa ⊕ 0xfe = 0x54.
  assert.deepEqual(combine([bytes(0x6b, 0x83), bytes(0x54, 0x13)]), bytes(0xaa));
});

test("combine recovers a 2-byte secret from every 3-subset of hand-made degree-2 shares", () => {
  const secret = [0x53, 0xca];
  const coefficients = [
    [0x1f, 0x8e],
    [0x00, 0xff],
  ];
  const xs = [1, 2, 7, 200, 255];
  const shares = xs.map((x) => bytes(...secret.map((s, i) => refEvaluate(s, coefficients[i]!, x)), x));
  for (let a = 0; a < xs.length; a++) {
    for (let b = a + 1; b < xs.length; b++) {
      for (let c = b + 1; c < xs.length; c++) {
        assert.deepEqual(combine([shares[c]!, shares[a]!, shares[b]!]), bytes(...secret), `xs ${xs[a]}, ${xs[b]}, ${xs[c]}`);
      }
    }
  }
  assert.deepEqual(combine(shares), bytes(...secret), "all five shares");
});

test("split lays shares out as [y bytes…, x] with x = 1…n", () => {
  const secret = secret32();
  const shares = split(secret, 3, 5);
  assert.equal(shares.length, 5);
  shares.forEach((share, i) => {
    assert.equal(share.length, secret.length + 1);
    assert.equal(share[secret.length], i + 1);
  });
});

test("splitAt puts the given x-coordinates last, in the order given", () => {
  const xs = [9, 200, 3, 255];
  const shares = splitAt(bytes(1, 2, 3), 2, xs);
  assert.deepEqual(
    shares.map((share) => share[3]),
    xs,
  );
});

test("2-of-255 split: every share lies on the line through the secret fixed by share x = 1 (reference evaluation)", () => {
  // Lengths around the four-byte words split works in: 1…3 bytes of tail, none, and a tail after words.
  for (const length of [1, 2, 3, 4, 32, 35]) {
    const secret = Uint8Array.from({ length }, (_, i) => (i * 53 + 7) & 0xff);
    const shares = split(secret, 2, 255);
    // f(x) = s ⊕ a·x, so a = f(1) ⊕ s for each byte; every other share must then equal s ⊕ a·x.
    const slope = Array.from(secret, (s, i) => shares[0]![i]! ^ s);
    for (const share of shares) {
      const x = share[length]!;
      const expected = Array.from(secret, (s, i) => s ^ refMul(slope[i]!, x));
      assert.deepEqual(Array.from(share.subarray(0, length)), expected, `length ${length}, x = ${x}`);
    }
  }
});

// --- Properties --------------------------------------------------------------------------------------------

test("property: any t of n shares, in any order, recover the secret (n ≤ 10)", () => {
  fc.assert(
    fc.property(sharing(10, (t) => t), fc.uint8Array({ minLength: 1, maxLength: 64 }), ({ n, t, chosen }, secret) => {
      const shares = split(secret, t, n);
      assert.deepEqual(combine(chosen.map((i) => shares[i]!)), secret);
    }),
    { numRuns: 300 },
  );
});

test("property: any t of 255 shares, in any order, recover the secret", () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 2, max: 255 })
        .chain((t) =>
          fc.tuple(fc.constant(t), fc.shuffledSubarray(Array.from({ length: 255 }, (_, i) => i), { minLength: t, maxLength: t })),
        ),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      ([t, chosen], secret) => {
        const shares = split(secret, t, 255);
        assert.deepEqual(combine(chosen.map((i) => shares[i]!)), secret);
      },
    ),
    { numRuns: 10 },
  );
});

test("property: t − 1 shares do not give the secret back (secrets ≥ 16 bytes: chance match ≤ 2^-128)", () => {
  fc.assert(
    fc.property(sharing(10, (t) => t - 1), fc.uint8Array({ minLength: 16, maxLength: 64 }), ({ n, t, chosen }, secret) => {
      const shares = split(secret, t, n);
      assert.notDeepEqual(combine(chosen.map((i) => shares[i]!)), secret);
    }),
    { numRuns: 300 },
  );
});

test("split is unbiased: 2-of-2 share x = 1 equals the secret byte with probability 1/256", () => {
  // f(1) = s ⊕ a equals s exactly when the random coefficient a is 0. 640,000 bytes: 1/256 = 0.00391, and
  // [0.00344, 0.00437] is about ±6 standard deviations. An implementation that rejects a = 0 gives 0.
  const secret = secret32();
  const runs = 20_000;
  let equal = 0;
  for (let run = 0; run < runs; run++) {
    const [first] = split(secret, 2, 2);
    for (let i = 0; i < secret.length; i++) if (first![i] === secret[i]) equal++;
  }
  const fraction = equal / (runs * secret.length);
  assert.ok(fraction >= 0.00344 && fraction <= 0.00437, `fraction ${fraction} outside [0.00344, 0.00437]`);
});

// --- Refusals ----------------------------------------------------------------------------------------------

test("split refuses an empty secret", () => {
  throwsCode(() => split(new Uint8Array(0), 2, 3), "shares_invalid", /secret must not be empty/);
});

test("split refuses a threshold below 2", () => {
  throwsCode(() => split(secret32(), 1, 3), "shares_invalid", /threshold must be an integer ≥ 2, got 1/);
  throwsCode(() => split(secret32(), 0, 3), "shares_invalid", /threshold must be an integer ≥ 2, got 0/);
});

test("split refuses fewer shares than the threshold", () => {
  throwsCode(() => split(secret32(), 3, 2), "shares_invalid", /share count must be an integer in \[threshold, 255\], got 2/);
});

test("split refuses more than 255 shares", () => {
  throwsCode(() => split(secret32(), 2, 256), "shares_invalid", /share count .* got 256/);
});

test("split refuses a non-integer threshold or share count", () => {
  throwsCode(() => split(secret32(), 2.5, 3), "shares_invalid", /threshold must be an integer ≥ 2, got 2.5/);
  throwsCode(() => split(secret32(), 2, 3.5), "shares_invalid", /share count must be an integer .* got 3.5/);
  throwsCode(() => split(secret32(), Number.NaN, 3), "shares_invalid", /threshold must be an integer/);
});

test("splitAt refuses x = 0 (the share would be the secret itself)", () => {
  throwsCode(() => splitAt(secret32(), 2, [1, 0]), "shares_invalid", /x-coordinates must be integers in 1…255, got 0/);
});

test("splitAt refuses x > 255 and non-integer x", () => {
  throwsCode(() => splitAt(secret32(), 2, [1, 256]), "shares_invalid", /x-coordinates must be integers in 1…255, got 256/);
  throwsCode(() => splitAt(secret32(), 2, [1, 1.5]), "shares_invalid", /got 1.5/);
});

test("splitAt refuses a repeated x", () => {
  throwsCode(() => splitAt(secret32(), 2, [5, 7, 5]), "shares_invalid", /x-coordinates must be distinct, 5 repeats/);
});

test("combine refuses an empty list", () => {
  throwsCode(() => combine([]), "shares_invalid", /no shares given/);
});

test("combine refuses shares of different lengths", () => {
  throwsCode(() => combine([bytes(1, 2, 1), bytes(3, 2)]), "shares_invalid", /shares have different lengths/);
});

test("combine refuses shares shorter than 2 bytes", () => {
  throwsCode(() => combine([bytes(1), bytes(2)]), "shares_invalid", /at least one byte and its x-coordinate/);
});

test("combine refuses a share at x = 0", () => {
  throwsCode(() => combine([bytes(7, 1), bytes(9, 0)]), "shares_invalid", /a share has x = 0/);
});

test("combine refuses two shares with the same x", () => {
  throwsCode(() => combine([bytes(7, 3), bytes(9, 3)]), "shares_invalid", /two shares have x = 3/);
});

test("combine refuses fewer shares than the threshold option", () => {
  const shares = split(secret32(), 3, 5);
  throwsCode(() => combine(shares.slice(0, 2), { threshold: 3 }), "shares_invalid", /2 share\(s\) given, the threshold is 3/);
  assert.deepEqual(combine(shares.slice(0, 3), { threshold: 3 }), secret32());
});

test("combine refuses an x not in the xs option", () => {
  const shares = splitAt(secret32(), 2, [1, 2, 4]);
  throwsCode(() => combine([shares[0]!, shares[2]!], { xs: [1, 2, 3] }), "shares_invalid", /x = 4, which is not expected/);
  assert.deepEqual(combine([shares[0]!, shares[1]!], { xs: [1, 2, 3] }), secret32());
});
