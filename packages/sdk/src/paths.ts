/**
 * URL pieces. Secret paths are segments of letters, digits, `-`, `_` and `.`, joined by `/`, with no empty,
 * `.` or `..` segment and no leading or trailing slash. A valid path is sent per-segment encoded (which
 * changes nothing for these characters), so it names the same path on the server; anything else is
 * refused before a request is made, so that no other spelling can reach a different path.
 */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
/** With the `u` flag, `\p{Cs}` matches only surrogates that are not half of a pair: text URLs cannot carry. */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** Why `path` is not a valid secret path, or undefined when it is. */
export function secretPathProblem(path: unknown): string | undefined {
  if (typeof path !== "string") return "the secret path must be a string";
  if (path.length === 0) return "the secret path is empty";
  for (const segment of path.split("/")) {
    if (segment === "") return `the secret path ${JSON.stringify(path)} has an empty segment or a leading or trailing slash`;
    if (segment === "." || segment === "..") return `the secret path ${JSON.stringify(path)} may not contain . or .. segments`;
    if (!SEGMENT.test(segment)) return `the secret path ${JSON.stringify(path)} may hold only letters, digits, '-', '_', '.' and '/' between segments`;
  }
  return undefined;
}

export function encodeSecretPath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** Why `id` cannot be a path parameter (vault, agent or key id), or undefined. */
export function idProblem(what: string, id: unknown): string | undefined {
  if (typeof id !== "string" || id.length === 0) return `${what} must be a non-empty string`;
  if (UNPAIRED_SURROGATE.test(id)) return `${what} is not well-formed Unicode`;
  return undefined;
}

export function versionProblem(version: unknown): string | undefined {
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) return "the version must be a positive integer";
  return undefined;
}
