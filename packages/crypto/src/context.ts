/**
 * Canonical encoding of a structured context (vault id, path, version, custody mode, provider list, …) into
 * the associated-data bytes that bind a ciphertext, wrapped key or share to what it belongs to.
 *
 * Layout (all integers big-endian):
 *   "SVCTX" 0x01 | u16 field count | per field, sorted by name:
 *     u8 name length | name (ASCII) | u8 type | value
 *   type 1 string:      u32 byte length | UTF-8
 *   type 2 integer:     8 bytes, unsigned
 *   type 3 string list: u32 count | per item: u32 byte length | UTF-8
 * Every piece is typed and length-prefixed and field order is fixed, so two different contexts can never
 * encode to the same bytes (the encoding is injective).
 */
import { CryptoError } from "./errors.js";

export type ContextValue = string | number | readonly string[];
export type Context = Readonly<Record<string, ContextValue>>;

const MAGIC = Buffer.from("SVCTX\x01", "latin1");
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

function fail(message: string): never {
  throw new CryptoError("invalid_argument", message);
}

const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

function checkString(s: string): void {
  // UTF-8 encoding turns an unpaired surrogate into U+FFFD, which would make "\ud800" and "\ufffd" collide.
  if (UNPAIRED_SURROGATE.test(s)) fail("context strings must be well-formed UTF-16 (no unpaired surrogates)");
}

// One pass checks every field and adds up the length, a second writes into one buffer of that length:
// contexts are encoded several times per secret read, and a buffer per piece cost more than the rest.
export function encodeContext(context: Context): Buffer {
  const names = Object.keys(context).sort();
  if (names.length > 0xffff) fail("context has too many fields");
  let length = MAGIC.length + 2;
  for (const name of names) {
    if (!FIELD_NAME.test(name)) fail(`context field name ${JSON.stringify(name)} is not allowed`);
    const value = context[name];
    length += 2 + name.length;
    if (typeof value === "string") {
      checkString(value);
      length += 4 + Buffer.byteLength(value, "utf8");
    } else if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) fail(`context field ${name} must be a non-negative integer`);
      length += 8;
    } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      length += 4;
      for (const item of value as readonly string[]) {
        checkString(item);
        length += 4 + Buffer.byteLength(item, "utf8");
      }
    } else {
      fail(`context field ${name} must be a string, an integer or a list of strings`);
    }
  }
  const out = Buffer.alloc(length);
  let at = out.write(MAGIC.toString("latin1"), 0, "latin1");
  at = out.writeUInt16BE(names.length, at);
  const writeString = (s: string) => {
    const written = out.write(s, at + 4, "utf8");
    out.writeUInt32BE(written, at);
    at += 4 + written;
  };
  for (const name of names) {
    const value = context[name]!;
    at = out.writeUInt8(name.length, at);
    at += out.write(name, at, "latin1");
    if (typeof value === "string") {
      at = out.writeUInt8(1, at);
      writeString(value);
    } else if (typeof value === "number") {
      at = out.writeUInt8(2, at);
      at = out.writeBigUInt64BE(BigInt(value), at);
    } else {
      at = out.writeUInt8(3, at);
      at = out.writeUInt32BE(value.length, at);
      for (const item of value) writeString(item);
    }
  }
  return out;
}
