// Runs every test file of every package with Node's own test runner, TypeScript loaded through tsx.
// Node 20's `--test` takes no globs, so the files are listed here. Arguments narrow the run to the files
// whose path contains one of them: `npm test -- shamir server/http`. When a dashboard test is among them,
// the dashboard is built first, so the browser test never runs against a bundle older than the sources.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function testFiles(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (name.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = readdirSync(join(root, "packages"))
  .map((pkg) => join(root, "packages", pkg, "test"))
  .filter((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory())
  .flatMap(testFiles)
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error("no test file matches", filters);
  process.exit(1);
}

if (files.some((file) => file.startsWith("packages/dashboard/"))) {
  const build = spawnSync("npm", ["run", "build", "-w", "@shardvault/dashboard"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("building the dashboard failed");
    process.exit(build.status ?? 1);
  }
}

const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], {
  cwd: root,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
