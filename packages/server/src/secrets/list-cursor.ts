/**
 * The cursor of a paged secret list: opaque to clients, it names the last path of the page it follows (a path
 * the caller was shown, never one its policies hide). Anything not shaped like one is refused; a cursor made up
 * in that shape only moves where a page starts, within what the caller may list anyway.
 */
import { badRequest } from "../errors.js";

const TAG = "p1:";
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function encodeListCursor(lastPath: string): string {
  return Buffer.from(TAG + lastPath, "utf8").toString("base64url");
}

/** The path the page starts after. */
export function decodeListCursor(cursor: string): string {
  const refuse = () => badRequest("invalid_cursor", "cursor is not a cursor this server gave (pass next_cursor back unchanged)");
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  const bytes = Buffer.from(cursor, "base64url");
  // Only the canonical encoding: one cursor, one string.
  if (bytes.toString("base64url") !== cursor) throw refuse();
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw refuse();
  }
  if (!text.startsWith(TAG) || text.length === TAG.length) throw refuse();
  return text.slice(TAG.length);
}
