import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { decodeContext, encodeContext as encodeBytes, type Context } from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";

/** The encoding as a Buffer, to compare and print. */
const encodeContext = (context: Context) => Buffer.from(encodeBytes(context));

/** Same fields inserted in reverse order. */
const reversed = (context: Context): Context => Object.fromEntries(Object.entries(context).reverse());

test("encodeContext follows the documented layout (the associated data must never change)", () => {
  // "SVCTX" 0x01 | u16 count | sorted fields: u8 name length | name | u8 type | value.
  const expected = Buffer.concat([
    Buffer.from("SVCTX\x01", "latin1"),
    Buffer.from([0x00, 0x02]),
    Buffer.from([1, 0x61, 1, 0, 0, 0, 3, 0x68, 0xc3, 0xa9]), // a: string "hé" (3 UTF-8 bytes)
    Buffer.from([1, 0x6c, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0x78, 0, 0, 0, 0]), // l: list ["x", ""]
  ]);
  assert.deepEqual(encodeContext({ l: ["x", ""], a: "hé" }), expected);
  assert.deepEqual(
    encodeContext({ v: 7 }),
    Buffer.concat([Buffer.from("SVCTX\x01\x00\x01\x01v\x02", "latin1"), Buffer.from([0, 0, 0, 0, 0, 0, 0, 7])]),
  );
});

test("encodeContext is independent of key insertion order", () => {
  const a = encodeContext({ vault: "v1", path: "db/pw", version: 3, providers: ["aws", "gcp"] });
  const b = encodeContext({ providers: ["aws", "gcp"], version: 3, path: "db/pw", vault: "v1" });
  assert.deepEqual(a, b);
});

test("tricky pairs of different contexts encode to different bytes", () => {
  const contexts: Context[] = [
    {},
    { a: "1" },
    { a: 1 },
    { a: ["x", "y"] },
    { a: ["xy"] },
    { a: "xy" },
    { a: ["x", ""] },
    { a: ["", "x"] },
    { a: "b", c: "d" },
    { a: "bc", d: "" },
    { a: "bc" },
    { ab: "c" },
    { a: "", b: "" },
    { a: "\u0000b" },
    { a: "" },
    { a: [] },
    { a: [""] },
    { a: 0 },
    { b: "" },
    { a: 256 },
    { a: 2 ** 32 },
    { a: Number.MAX_SAFE_INTEGER },
    { a: "\u00e9" }, // é precomposed
    { a: "e\u0301" }, // e + combining acute: same text to a reader, different string
  ];
  const seen = new Map<string, Context>();
  for (const context of contexts) {
    const key = encodeContext(context).toString("hex");
    assert.ok(!seen.has(key), `${JSON.stringify(context)} encodes like ${JSON.stringify(seen.get(key))}`);
    seen.set(key, context);
  }
});

test("a lone surrogate does not encode like U+FFFD (it would otherwise collide with it)", () => {
  // Buffer.from(s, "utf8") turns an unpaired surrogate into U+FFFD, so "\ud800" and "\ufffd" would share bytes.
  let collides = false;
  try {
    collides = encodeContext({ a: "\ud800" }).equals(encodeContext({ a: "\ufffd" }));
  } catch {
    // Refusing the ill-formed string is also fine.
  }
  assert.equal(collides, false);
});

test("encodeContext refuses strings and list items that are not well-formed UTF-16", () => {
  throwsCode(() => encodeContext({ a: "x\udc00" }), "invalid_argument", /well-formed/);
  throwsCode(() => encodeContext({ a: ["ok", "\ud83d"] }), "invalid_argument", /well-formed/);
  assert.doesNotThrow(() => encodeContext({ a: "\ud83d\udd11" }), "a proper surrogate pair (🔑) is fine");
});

// Small value domains make equal pairs frequent, so both sides of "iff" are exercised.
const smallContext = fc.dictionary(
  fc.constantFrom("a", "b", "c"),
  fc.oneof(fc.constantFrom("", "1", "x", "xy"), fc.constantFrom(0, 1), fc.array(fc.constantFrom("", "x", "y", "xy"), { maxLength: 2 })),
  { maxKeys: 3, noNullPrototype: true },
);
const wideContext = fc.dictionary(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
  fc.oneof(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.maxSafeNat(),
    fc.array(fc.string({ unit: "binary", maxLength: 6 }), { maxLength: 4 }),
  ),
  { maxKeys: 5, noNullPrototype: true },
);

test("property: two contexts encode equal iff they are deep-equal", () => {
  for (const arbitrary of [smallContext, wideContext]) {
    fc.assert(
      fc.property(arbitrary, arbitrary, (a, b) => {
        assert.equal(encodeContext(a).equals(encodeContext(b)), isDeepStrictEqual(a, b));
      }),
      { numRuns: 1000 },
    );
  }
});

test("property: encoding ignores insertion order", () => {
  fc.assert(
    fc.property(wideContext, (context) => {
      assert.deepEqual(encodeContext(reversed(context)), encodeContext(context));
    }),
  );
});

test("encodeContext refuses bad field names", () => {
  for (const name of ["", "A", "1a", "_a", "a-b", "a.b", "a b", "é", "a".repeat(65)]) {
    throwsCode(() => encodeContext({ [name]: "x" }), "invalid_argument", /field name .* is not allowed/);
  }
  assert.doesNotThrow(() => encodeContext({ ["a".repeat(64)]: "x", a_9: "y" }));
});

test("encodeContext refuses negative, fractional and unsafe numbers", () => {
  for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
    throwsCode(() => encodeContext({ version: value }), "invalid_argument", /context field version must be a non-negative integer/);
  }
});

test("encodeContext refuses lists with non-string items and values of other types", () => {
  const bad = [[1], ["a", null], [["a"]], true, null, undefined, { x: "y" }];
  for (const value of bad) {
    throwsCode(
      () => encodeContext({ providers: value } as unknown as Context),
      "invalid_argument",
      /context field providers must be a string, an integer or a list of strings/,
    );
  }
});

test("decodeContext reads back every context encodeContext writes (property)", () => {
  const context = fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/),
    fc.oneof(fc.string({ unit: "grapheme" }), fc.nat(), fc.array(fc.string(), { maxLength: 4 })),
    { noNullPrototype: true },
  );
  fc.assert(
    fc.property(context, (c) => {
      assert.deepEqual(decodeContext(encodeBytes(c)), c);
    }),
  );
});

test("decodeContext refuses bytes that are not one canonical context: truncated, extended, bad magic, unknown type, unsorted", () => {
  const good = encodeBytes({ path: "db/pw", version: 3, providers: ["gcp", "client"] });
  const unsorted = Buffer.concat([Buffer.from("SVCTX\x01\x00\x02", "latin1"), Buffer.from([1, 0x62, 2, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from([1, 0x61, 2, 0, 0, 0, 0, 0, 0, 0, 1])]);
  const cases: Uint8Array[] = [
    good.subarray(0, good.length - 1),
    Uint8Array.from([...good, 0]),
    Uint8Array.from([0x54, ...good.subarray(1)]),
    new Uint8Array(0),
    Buffer.concat([Buffer.from("SVCTX\x01\x00\x01\x01a\x09", "latin1")]),
    unsorted,
  ];
  for (const bytes of cases) throwsCode(() => decodeContext(bytes), "context_malformed");
});
