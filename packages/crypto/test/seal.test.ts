import assert from "node:assert/strict";
import { createDecipheriv, randomBytes } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { IV_LENGTH, open, seal, SEALED_OVERHEAD, SEALED_VERSION, TAG_LENGTH } from "../src/index.js";
import { throwsCode } from "./support/assert-code.js";

const key = new Uint8Array(randomBytes(32));
const aad = new Uint8Array(Buffer.from("vault=v1;path=db/password;version=3"));
const plaintext = new Uint8Array(Buffer.from("correct horse battery staple, 40 bytes!!"));

test("open(seal(x)) = x for random keys, values (including empty) and associated data", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 64 }),
      (k, value, data) => {
        const sealed = seal(k, value, data);
        assert.equal(sealed.length, value.length + SEALED_OVERHEAD);
        assert.deepEqual(new Uint8Array(open(k, sealed, data)), value);
      },
    ),
  );
});

test("seal writes 0x01 | IV | ciphertext | tag, which plain AES-256-GCM decrypts", () => {
  const sealed = seal(key, plaintext, aad);
  assert.equal(sealed[0], SEALED_VERSION);
  assert.equal(SEALED_VERSION, 0x01);
  const tagStart = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 1 + IV_LENGTH), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(tagStart));
  const out = Buffer.concat([decipher.update(sealed.subarray(1 + IV_LENGTH, tagStart)), decipher.final()]);
  assert.deepEqual(new Uint8Array(out), plaintext);
});

test("each seal draws a fresh IV: sealing the same input twice gives different IVs and bytes", () => {
  const a = seal(key, plaintext, aad);
  const b = seal(key, plaintext, aad);
  assert.notDeepEqual(a.subarray(1, 1 + IV_LENGTH), b.subarray(1, 1 + IV_LENGTH));
  assert.notDeepEqual(a, b);
});

test("flipping any byte of the IV, ciphertext or tag makes open throw sealed_auth_failed", () => {
  const sealed = seal(key, plaintext, aad);
  assert.equal(sealed.length, 1 + IV_LENGTH + plaintext.length + TAG_LENGTH);
  for (let i = 1; i < sealed.length; i++) {
    const tampered = Buffer.from(sealed);
    tampered[i]! ^= 0x01;
    throwsCode(() => open(key, tampered, aad), "sealed_auth_failed", /failed authentication/);
  }
});

test("flipping any byte of the associated data makes open throw sealed_auth_failed", () => {
  const sealed = seal(key, plaintext, aad);
  for (let i = 0; i < aad.length; i++) {
    const other = Uint8Array.from(aad);
    other[i]! ^= 0x80;
    throwsCode(() => open(key, sealed, other), "sealed_auth_failed");
  }
  throwsCode(() => open(key, sealed, aad.subarray(1)), "sealed_auth_failed");
  throwsCode(() => open(key, sealed, new Uint8Array(0)), "sealed_auth_failed");
});

test("open under another key throws sealed_auth_failed", () => {
  const sealed = seal(key, plaintext, aad);
  throwsCode(() => open(new Uint8Array(randomBytes(32)), sealed, aad), "sealed_auth_failed");
});

test("a version byte other than 0x01 gives sealed_unknown_version", () => {
  const sealed = seal(key, plaintext, aad);
  for (const version of [0x00, 0x02, 0xff]) {
    const other = Buffer.from(sealed);
    other[0] = version;
    throwsCode(() => open(key, other, aad), "sealed_unknown_version", new RegExp(`unknown format version ${version}`));
  }
});

test("a sealed value shorter than version + IV + tag gives sealed_malformed", () => {
  const sealed = seal(key, new Uint8Array(0), aad);
  assert.equal(sealed.length, SEALED_OVERHEAD);
  assert.deepEqual(new Uint8Array(open(key, sealed, aad)), new Uint8Array(0));
  for (const length of [0, 1, SEALED_OVERHEAD - 1]) {
    throwsCode(() => open(key, sealed.subarray(0, length), aad), "sealed_malformed", new RegExp(`is ${length} bytes, at least 29 expected`));
  }
});

test("seal and open refuse keys that are not 32 bytes with invalid_argument", () => {
  const sealed = seal(key, plaintext, aad);
  for (const length of [0, 16, 24, 31, 33]) {
    const bad = new Uint8Array(length);
    throwsCode(() => seal(bad, plaintext, aad), "invalid_argument", new RegExp(`"key" expected Uint8Array of length 32, got ${length}`));
    throwsCode(() => open(bad, sealed, aad), "invalid_argument", /"key" expected Uint8Array of length 32/);
  }
});
