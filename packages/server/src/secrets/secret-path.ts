/**
 * Secret paths: segments of letters, digits, `-`, `_`, `.`, separated by `/`; no leading or trailing slash,
 * no empty segment, no `.` or `..` segment.
 */
import { badRequest } from "../errors.js";

const SEGMENT = /^[A-Za-z0-9._-]+$/;

export function validateSecretPath(path: string, maxLength: number): string {
  if (path.length === 0) throw badRequest("invalid_path", "the secret path is empty");
  if (path.length > maxLength) throw badRequest("invalid_path", `the secret path is longer than ${maxLength} characters`);
  for (const segment of path.split("/")) {
    if (segment === "") throw badRequest("invalid_path", "the secret path has an empty segment or a leading or trailing slash");
    if (segment === "." || segment === "..") throw badRequest("invalid_path", "the secret path may not contain . or .. segments");
    if (!SEGMENT.test(segment)) {
      throw badRequest("invalid_path", "secret path segments may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return path;
}

/**
 * Decodes the raw path taken from the request URL exactly once. Clients send `a/b`, `a%2Fb` or per-segment
 * encoding; all decode to `a/b`. `%252F` decodes to `%2F`, whose `%` the validation then refuses.
 */
export function decodeSecretPath(raw: string, maxLength: number): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw badRequest("invalid_path", "the secret path is not valid percent-encoding");
  }
  return validateSecretPath(decoded, maxLength);
}
