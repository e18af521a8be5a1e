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

const MAGIC = [0x53, 0x56, 0x43, 0x54, 0x58, 0x01]; // "SVCTX" 0x01
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const STRING = 1;
const INTEGER = 2;
const STRING_LIST = 3;
const utf8 = new TextEncoder();

function fail(message: string): never {
  throw new CryptoError("invalid_argument", message);
}

const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The UTF-8 length of a well-formed string (checked first: UTF-8 encoding turns an unpaired surrogate into
 * U+FFFD, which would make "\ud800" and "\ufffd" collide). ASCII strings (ids, paths, names: nearly all) are
 * measured and later written byte by byte without the regular expression or the encoder.
 */
function utf8Length(s: string): number {
  let length = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      length += 4; // a surrogate pair: one 4-byte code point
      i++;
    } else length += 3;
  }
  if (length !== s.length && UNPAIRED_SURROGATE.test(s)) fail("context strings must be well-formed UTF-16 (no unpaired surrogates)");
  return length;
}

// One pass checks every field and adds up the length, a second writes into one buffer of that length:
// contexts are encoded several times per secret read, and a buffer per piece cost more than the rest.
export function encodeContext(context: Context): Uint8Array {
  const names = Object.keys(context).sort();
  if (names.length > 0xffff) fail("context has too many fields");
  let length = MAGIC.length + 2;
  for (const name of names) {
    if (!FIELD_NAME.test(name)) fail(`context field name ${JSON.stringify(name)} is not allowed`);
    const value = context[name];
    length += 2 + name.length;
    if (typeof value === "string") {
      length += 4 + utf8Length(value);
    } else if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) fail(`context field ${name} must be a non-negative integer`);
      length += 8;
    } else if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
      length += 4;
      for (const item of value as readonly string[]) length += 4 + utf8Length(item);
    } else {
      fail(`context field ${name} must be a string, an integer or a list of strings`);
    }
  }
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  let at = MAGIC.length;
  view.setUint16(at, names.length);
  at += 2;
  const writeString = (s: string) => {
    let written = 0;
    for (; written < s.length; written++) {
      const unit = s.charCodeAt(written);
      if (unit >= 0x80) break;
      out[at + 4 + written] = unit;
    }
    if (written < s.length) written = utf8.encodeInto(s, out.subarray(at + 4)).written;
    view.setUint32(at, written);
    at += 4 + written;
  };
  for (const name of names) {
    const value = context[name]!;
    out[at++] = name.length;
    for (let i = 0; i < name.length; i++) out[at++] = name.charCodeAt(i);
    if (typeof value === "string") {
      out[at++] = STRING;
      writeString(value);
    } else if (typeof value === "number") {
      out[at++] = INTEGER;
      view.setBigUint64(at, BigInt(value));
      at += 8;
    } else {
      out[at++] = STRING_LIST;
      view.setUint32(at, value.length);
      at += 4;
      for (const item of value) writeString(item);
    }
  }
  return out;
}

/**
 * Reads back what `encodeContext` wrote (a client checks that the context a server sends names what it asked
 * for). Strict: anything that would not re-encode to the same bytes is refused.
 */
export function decodeContext(bytes: Uint8Array): Record<string, ContextValue> {
  const malformed = (): never => {
    throw new CryptoError("context_malformed", "the context bytes are not a canonical Shardvault context");
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8Strict = new TextDecoder("utf-8", { fatal: true });
  let at = 0;
  const need = (n: number) => (at + n <= bytes.length ? at : malformed());
  const readString = () => {
    const length = view.getUint32(need(4));
    at += 4;
    const start = need(length);
    at += length;
    try {
      return utf8Strict.decode(bytes.subarray(start, at));
    } catch {
      return malformed();
    }
  };
  need(MAGIC.length + 2);
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) malformed();
  at = MAGIC.length;
  const count = view.getUint16(at);
  at += 2;
  const context: Record<string, ContextValue> = {};
  for (let field = 0; field < count; field++) {
    const nameLength = bytes[need(1)]!;
    at += 1;
    const nameStart = need(nameLength);
    at += nameLength;
    const name = String.fromCharCode(...bytes.subarray(nameStart, at));
    const type = bytes[need(1)];
    at += 1;
    if (type === STRING) context[name] = readString();
    else if (type === INTEGER) {
      const value = view.getBigUint64(need(8));
      at += 8;
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed();
      context[name] = Number(value);
    } else if (type === STRING_LIST) {
      const items = view.getUint32(need(4));
      at += 4;
      const list: string[] = [];
      for (let i = 0; i < items; i++) list.push(readString());
      context[name] = list;
    } else malformed();
  }
  if (at !== bytes.length) malformed();
  let canonical: Uint8Array;
  try {
    canonical = encodeContext(context);
  } catch {
    return malformed();
  }
  if (canonical.length !== bytes.length || canonical.some((byte, i) => byte !== bytes[i])) malformed();
  return context;
}
