/**
 * The dashboard's stylesheet keeps every rule closed: a rule left open makes the browser nest every later rule
 * inside it (CSS nesting), which silently breaks their selectors. The build does not complain, so this checks
 * it: braces balance, and a rule block holds declarations only (rules nest in at-rules such as @media alone).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

const CSS = new URL("../src/styles.css", import.meta.url);

describe("dashboard stylesheet", () => {
  it("closes every rule; rules nest only in at-rules", () => {
    const text = readFileSync(CSS, "utf8").replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " "));
    const open: Array<{ selector: string; line: number }> = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === "{") {
        const selector = text.slice(start, i).trim();
        const line = text.slice(0, i).split("\n").length;
        const parent = open.at(-1);
        assert.ok(!parent || parent.selector.startsWith("@"), `line ${line}: "${selector}" opens inside "${parent?.selector}" (line ${parent?.line}), which is not closed`);
        open.push({ selector, line });
        start = i + 1;
      } else if (ch === "}") {
        assert.ok(open.pop(), `line ${text.slice(0, i).split("\n").length}: a } closes nothing`);
        start = i + 1;
      } else if (ch === ";") {
        start = i + 1;
      }
    }
    assert.deepEqual(open, [], "rules left open at the end");
  });
});
