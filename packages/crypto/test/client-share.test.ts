import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import {
  CLIENT_SHARE_VERSION,
  clientShareTag,
  decodeClientShare,
  encodeClientShare,
  encodeContext,
  SCHEME_SHAMIR,
  SCHEME_XOR,
  type ClientShare,
} from "../src/index.js";
import { rejectsCode } from "./support/assert-code.js";

/** A fixed, deterministic share so every malformed-input test is reproducible. */
const sample: ClientShare = {
  scheme: SCHEME_SHAMIR,
  index: 3,
  share: Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 5) & 0xff),
  tag: await clientShareTag(encodeContext({ vault: "v1", path: "db/pw", version: 2 })),
};
const encoded = await encodeClientShare(sample);
const decoded = () => new Uint8Array(Buffer.from(encoded, "base64"));

/** Appends the 4-byte check (SHA-256 prefix of everything before it) and base64-encodes: valid check. */
function withCheck(body: Uint8Array): string {
  const check = createHash("sha256").update(body).digest().subarray(0, 4);
  return Buffer.concat([body, check]).toString("base64");
}

/** version | scheme | index | 32 share bytes | 8 tag bytes, without the check. */
const body = (version: number, scheme: number, index: number) =>
  Uint8Array.from([version, scheme, index, ...sample.share, ...sample.tag]);

test("an encoded client share is 64 base64 characters and decodes to what was encoded", async () => {
  assert.equal(encoded.length, 64);
  assert.match(encoded, /^[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(await decodeClientShare(encoded), sample);
});

test("the documented layout: version | scheme | index | share | tag | SHA-256 check", async () => {
  assert.equal(encoded, withCheck(body(CLIENT_SHARE_VERSION, SCHEME_SHAMIR, 3)));
});

test("property: decode(encode(share)) = share for random bytes, index and scheme", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(SCHEME_XOR, SCHEME_SHAMIR),
      fc.integer({ min: 1, max: 255 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      async (scheme, index, share, tag) => {
        const text = await encodeClientShare({ scheme, index, share, tag });
        assert.equal(text.length, 64);
        assert.deepEqual(await decodeClientShare(text), { scheme, index, share, tag });
      },
    ),
  );
});

test("clientShareTag is the first 8 bytes of SHA-256 over the context bytes", async () => {
  const context = encodeContext({ vault: "v1", path: "db/pw", version: 2 });
  const tag = await clientShareTag(context);
  assert.deepEqual(tag, new Uint8Array(createHash("sha256").update(context).digest().subarray(0, 8)));
  assert.notDeepEqual(tag, await clientShareTag(encodeContext({ vault: "v1", path: "db/pw", version: 3 })));
});

test("bad_encoding: a character outside the base64 alphabet", async () => {
  for (const bad of ["!", "*", ".", "é"]) {
    await rejectsCode(() => decodeClientShare(bad + encoded.slice(1)), "client_share_bad_encoding", /not standard base64/);
  }
});

test("bad_encoding: the URL-safe alphabet ('-' and '_')", async () => {
  await rejectsCode(() => decodeClientShare("-" + encoded.slice(1)), "client_share_bad_encoding");
  await rejectsCode(() => decodeClientShare("_" + encoded.slice(1)), "client_share_bad_encoding");
});

test("bad_encoding: missing padding", async () => {
  assert.ok(encoded.endsWith("="));
  await rejectsCode(() => decodeClientShare(encoded.replace(/=+$/, "")), "client_share_bad_encoding", /not standard base64/);
});

test("bad_encoding: whitespace anywhere", async () => {
  for (const text of [` ${encoded}`, `${encoded}\n`, `${encoded.slice(0, 32)} ${encoded.slice(32)}`, `${encoded.slice(0, 20)}\t${encoded.slice(20)}`]) {
    await rejectsCode(() => decodeClientShare(text), "client_share_bad_encoding");
  }
});

test("bad_encoding: non-zero unused bits in the last character (non-canonical base64)", async () => {
  // 47 bytes end in "XYZ=": Z carries 4 data bits and 2 unused ones. Setting an unused bit keeps the bytes.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const last = alphabet.indexOf(encoded[62]!);
  assert.equal(last & 0b11, 0, "canonical encoding has zero unused bits");
  const text = encoded.slice(0, 62) + alphabet[last | 0b01] + "=";
  assert.deepEqual(Buffer.from(text, "base64"), Buffer.from(encoded, "base64"), "same bytes, other text");
  await rejectsCode(() => decodeClientShare(text), "client_share_bad_encoding", /canonical/);
});

test("bad_check: every single-bit flip at every one of the 47 byte positions, re-encoded as valid base64", async () => {
  const bytes = decoded();
  assert.equal(bytes.length, 47);
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Uint8Array.from(bytes);
      flipped[i]! ^= 1 << bit;
      await rejectsCode(() => decodeClientShare(Buffer.from(flipped).toString("base64")), "client_share_bad_check", /failed its check/);
    }
  }
});

test("bad_check: truncations that stay valid base64 (every prefix of 8…46 bytes, and whole 4-character groups)", async () => {
  const bytes = decoded();
  for (let length = 8; length < bytes.length; length++) {
    await rejectsCode(() => decodeClientShare(Buffer.from(bytes.subarray(0, length)).toString("base64")), "client_share_bad_check");
  }
  for (let chars = 12; chars < 64; chars += 4) {
    await rejectsCode(() => decodeClientShare(encoded.slice(0, chars)), "client_share_bad_check");
  }
});

test("unknown_version: a valid check but version ≠ 1", async () => {
  for (const version of [0x00, 0x02, 0xff]) {
    await rejectsCode(
      () => decodeClientShare(withCheck(body(version, SCHEME_SHAMIR, 3))),
      "client_share_unknown_version",
      new RegExp(`unknown format version ${version}`),
    );
  }
});

test("unknown_scheme: a valid check, version 1, but scheme not 1 or 2", async () => {
  for (const scheme of [0x00, 0x03, 0xff]) {
    await rejectsCode(
      () => decodeClientShare(withCheck(body(CLIENT_SHARE_VERSION, scheme, 3))),
      "client_share_unknown_scheme",
      new RegExp(`unknown scheme ${scheme}`),
    );
  }
});

test("wrong_length: a valid check and version but a total length other than 47 bytes", async () => {
  const full = body(CLIENT_SHARE_VERSION, SCHEME_XOR, 2);
  for (const text of [withCheck(full.subarray(0, 42)), withCheck(Uint8Array.from([...full, 0])), withCheck(Uint8Array.from([...full, ...full]))]) {
    await rejectsCode(() => decodeClientShare(text), "client_share_wrong_length", /47 expected/);
  }
  // Too short to hold a check at all: also a length error.
  await rejectsCode(() => decodeClientShare(""), "client_share_wrong_length");
  await rejectsCode(() => decodeClientShare(Buffer.from(decoded().subarray(0, 7)).toString("base64")), "client_share_wrong_length");
});

test("bad_index: a valid check but index 0", async () => {
  await rejectsCode(() => decodeClientShare(withCheck(body(CLIENT_SHARE_VERSION, SCHEME_SHAMIR, 0))), "client_share_bad_index", /index 0/);
});

test("encodeClientShare refuses a bad scheme, index, share or tag length with invalid_argument", async () => {
  const cases: Array<[Partial<ClientShare>, RegExp]> = [
    [{ scheme: 3 as never }, /unknown client share scheme 3/],
    [{ index: 0 }, /index must be in 1…255, got 0/],
    [{ index: 256 }, /got 256/],
    [{ index: 1.5 }, /got 1.5/],
    [{ share: new Uint8Array(31) }, /"share" expected Uint8Array of length 32, got 31/],
    [{ tag: new Uint8Array(9) }, /"tag" expected Uint8Array of length 8, got 9/],
  ];
  for (const [change, message] of cases) {
    await rejectsCode(() => encodeClientShare({ ...sample, ...change }), "invalid_argument", message);
  }
});
