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

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

function encodeString(s: string): Buffer[] {
  // UTF-8 encoding turns an unpaired surrogate into U+FFFD, which would make "\ud800" and "\ufffd" collide.
  if (/[\uD800-\uDFFF]/u.test(s)) fail("context strings must be well-formed UTF-16 (no unpaired surrogates)");
  const bytes = Buffer.from(s, "utf8");
  return [u32(bytes.length), bytes];
}

export function encodeContext(context: Context): Buffer {
  const names = Object.keys(context).sort();
  if (names.length > 0xffff) fail("context has too many fields");
  const header = Buffer.alloc(2);
  header.writeUInt16BE(names.length);
  const parts: Buffer[] = [MAGIC, header];
  for (const name of names) {
    if (!FIELD_NAME.test(name)) fail(`context field name ${JSON.stringify(name)} is not allowed`);
    const value = context[name];
    parts.push(Buffer.from([name.length]), Buffer.from(name, "latin1"));
    if (typeof value === "string") {
      parts.push(Buffer.from([1]), ...encodeString(value));
    } else if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) fail(`context field ${name} must be a non-negative integer`);
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(BigInt(value));
      parts.push(Buffer.from([2]), out);
    } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      parts.push(Buffer.from([3]), u32(value.length), ...value.flatMap(encodeString));
    } else {
      fail(`context field ${name} must be a string, an integer or a list of strings`);
    }
  }
  return Buffer.concat(parts);
}
