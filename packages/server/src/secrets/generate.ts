/** Random secret values for rotate-generate, drawn without modulo bias. */
import { randomInt } from "node:crypto";
import type { CharsetName } from "@shardvault/api";

/** The alphabet of each charset the API names. */
export const CHARSETS: Record<CharsetName, string> = {
  hex: "0123456789abcdef",
  base64: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
  alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  ascii: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(""),
};

export type Charset = CharsetName;

/** A value of `length` characters as bytes (ASCII), so it can be wiped after sealing. */
export function generateValue(length: number, charset: Charset): Buffer {
  const alphabet = CHARSETS[charset];
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = alphabet.charCodeAt(randomInt(alphabet.length));
  return out;
}
