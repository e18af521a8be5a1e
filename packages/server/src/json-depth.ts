/**
 * How deeply a parsed JSON value nests (an object or array is one level, its members one more), measured with
 * an explicit stack: a body of a few kilobytes can nest deeper than any recursive walk (JSON.stringify
 * included) can follow, so free-form JSON inputs are measured with this before anything serialises them.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<{ node: object; depth: number }> = [];
  if (typeof value === "object" && value !== null) pending.push({ node: value, depth: 1 });
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.depth > maxDepth) return true;
    for (const child of Object.values(next.node)) {
      if (typeof child === "object" && child !== null) pending.push({ node: child, depth: next.depth + 1 });
    }
  }
  return false;
}
