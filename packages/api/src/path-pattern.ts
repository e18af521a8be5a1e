/**
 * Policy path patterns (api-contract.md, "Policies"): the segments of a secret path, each of which may instead be
 * `*` (exactly one segment) or `**` (any number of segments, none included). Pure and dependency-free: the server
 * decides access with it, and the dashboard previews which existing paths a pattern covers with the same code.
 */

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Why a pattern is refused (the server answers it as 400 `invalid_pattern`), or undefined when it is well formed. */
export function patternProblem(pattern: string): string | undefined {
  for (const segment of pattern.split("/")) {
    if (segment === "*" || segment === "**") continue;
    if (segment === "") return "secret_path_pattern has an empty segment or a leading or trailing slash";
    if (segment === "." || segment === "..") return "secret_path_pattern may not contain . or .. segments";
    if (!SEGMENT.test(segment)) {
      return "secret_path_pattern segments are letters, digits, '-', '_' and '.', or a whole-segment wildcard: '*' (one segment) or '**' (any number)";
    }
  }
  return undefined;
}

/**
 * Whether a pattern matches a path, segment by segment: `*` is exactly one segment, `**` any number of segments
 * (zero included), anything else itself. Dynamic programming over (pattern, path) prefixes: linear in their
 * product, whatever the number of `**`.
 */
export function matchesPattern(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const s = path.split("/");
  // row[j]: whether p[0..i) matches s[0..j)
  let row = new Array<boolean>(s.length + 1).fill(false);
  row[0] = true;
  for (const segment of p) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    if (segment === "**") {
      let any = false;
      for (let j = 0; j <= s.length; j++) {
        any ||= row[j]!;
        next[j] = any;
      }
    } else {
      for (let j = 1; j <= s.length; j++) next[j] = row[j - 1]! && (segment === "*" || segment === s[j - 1]);
    }
    row = next;
  }
  return row[s.length]!;
}
