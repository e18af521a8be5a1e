/** The skip-or-fail rule for tests that need data from outside the repository (support/external.ts). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { requireExternal, WYCHEPROOF_DIR } from "./support/external.js";

const missing = "/nonexistent/shardvault-test-data.json";

function fakeTest() {
  const skipped: string[] = [];
  return { skipped, skip: (message?: string) => void skipped.push(message ?? "") };
}

test("requireExternal runs the test when the data is there", () => {
  const t = fakeTest();
  assert.equal(requireExternal(t, fileURLToPath(import.meta.url), "nothing", {}), true);
  assert.deepEqual(t.skipped, []);
});

test("requireExternal skips with a message naming what to install when the data is missing", () => {
  const t = fakeTest();
  assert.equal(requireExternal(t, missing, "install it with: apt-get install some-vectors", {}), false);
  assert.equal(t.skipped.length, 1);
  assert.match(t.skipped[0]!, /shardvault-test-data\.json is missing \(install it with: apt-get install some-vectors\)/);
});

test("requireExternal throws instead of skipping when CI=true", () => {
  const t = fakeTest();
  assert.throws(() => requireExternal(t, missing, "install it with: apt-get install some-vectors", { CI: "true" }), /is missing \(install it with: apt-get install some-vectors\).*CI=true/);
  assert.deepEqual(t.skipped, []);
});

test("the Wycheproof folder resolves to shared/vectors/wycheproof beside the repository root", () => {
  const repoRoot = new URL("../../../", import.meta.url); // test/ → crypto/ → packages/ → the repository
  const rootPackage = JSON.parse(readFileSync(new URL("package.json", repoRoot), "utf8")) as { name: string };
  assert.equal(rootPackage.name, "shardvault");
  assert.equal(WYCHEPROOF_DIR, fileURLToPath(new URL("../shared/vectors/wycheproof/", repoRoot)));
});

test("CI's entry point sets CI=true itself, before it runs the tests (a runner without it cannot turn failures into skips)", () => {
  const script = readFileSync(new URL("../../../.ci/run", import.meta.url), "utf8");
  const exported = script.search(/^export CI=true$/m);
  const runs = script.search(/^npm ci && npm test$/m);
  assert.ok(exported >= 0, ".ci/run does not export CI=true");
  assert.ok(runs > exported, ".ci/run must export CI=true before `npm ci && npm test`");
});
