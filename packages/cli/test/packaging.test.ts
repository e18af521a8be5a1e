/**
 * The SDK and the command line installed as a user installs them, away from this repository: `npm pack`, a
 * fresh `npm init -y` project, `npm install` of the tarballs (the SDK's one dependency, `@shardvault/crypto`,
 * is packed with them; the CLI's npm dependencies come from the
 * registry), a file importing the SDK type-checked with `tsc --strict --module nodenext` and run against a real
 * server, and `shardvault` run from the installed bin — locally and from an `npm install -g`.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "./support.js";

const TSC = join(REPO_ROOT, "node_modules/.bin/tsc");

/** Runs a command to its end; its output is part of the failure message. */
function sh(command: string, args: string[], cwd: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  const env = cleanEnv(extra);
  // Not the settings of the `npm test` that runs this (npm_config_*): the user's npm, as it is.
  for (const name of Object.keys(env)) if (name.startsWith("npm_")) delete env[name];
  return spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 240_000 });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.status, 0, `${what} failed (${result.status ?? result.signal})\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** No @types/node in the project: the consumers declare the little of Node they use. */
const NODE_ENV = "declare const process: { env: Record<string, string | undefined> };\n";

const CONSUMER_ESM = `import { createClient, KNOWN_SECRET_TYPES, type Secret, type ShardvaultError, type ShardvaultResponse } from "@shardvault/sdk";
${NODE_ENV}
const client = createClient({ apiKey: process.env.KEY, baseUrl: process.env.URL });
const created = await client.vault.create({ name: "from-a-package" });
if (created.error) throw new Error(created.error.message);
const written = await client.secrets.set(created.data.id, "db/password", "hunter2", { type: "password" });
const read: ShardvaultResponse<Secret> = await client.secrets.get(created.data.id, "db/password");
const failure: ShardvaultError | null = (await client.secrets.get(created.data.id, "no/such")).error;
console.log(JSON.stringify({ version: written.data?.version, value: read.data?.value, missing: failure?.type, types: KNOWN_SECRET_TYPES.length }));
`;

// CommonJS (the package type \`npm init -y\` writes): the ES module is required, which Node 20.19+ does.
const CONSUMER_CJS = `import { createClient, type Health } from "@shardvault/sdk";
${NODE_ENV}
async function main(): Promise<void> {
  const answer = await createClient({ baseUrl: process.env.URL }).health.check();
  const health: Health | null = answer.data;
  console.log(health?.status);
}
void main();
`;

declare const process: { env: Record<string, string | undefined> };

describe("installed from packs, away from the repository", () => {
  let server: ServerHandle;
  let dir: string;
  let tarballs: string[];
  before(async () => {
    server = await startServer({ database: "pglite" });
    dir = makeTempDir("shardvault-pack-");
    const packed = JSON.parse(ok(sh("npm", ["pack", "-w", "@shardvault/crypto", "-w", "@shardvault/sdk", "-w", "@shardvault/cli", "--pack-destination", dir, "--json"], REPO_ROOT), "npm pack")) as Array<{ filename: string }>;
    tarballs = packed.map((p) => join(dir, p.filename));
  });
  after(async () => {
    await server?.stop();
  });

  test("the packs hold their build, types, README and licence, and the SDK depends on the crypto's client entry only", () => {
    const pack = (name: string) => tarballs.find((t) => t.endsWith(`/shardvault-${name}-0.1.0.tgz`))!;
    const [sdk, cli] = [pack("sdk"), pack("cli")];
    const sdkFiles = ok(sh("tar", ["-tzf", sdk], dir), "tar").split("\n");
    for (const file of ["package/README.md", "package/LICENSE", "package/package.json", "package/dist/index.js", "package/dist/index.d.ts", "package/dist/api-types.d.ts"]) assert.ok(sdkFiles.includes(file), file);
    assert.ok(!sdkFiles.some((f) => f.includes("tsbuildinfo") || f.includes("/test/") || f.endsWith(".tgz")), sdkFiles.join("\n"));
    const manifest = JSON.parse(ok(sh("tar", ["-xzOf", sdk, "package/package.json"], dir), "tar"));
    assert.deepEqual(manifest.dependencies, { "@shardvault/crypto": "0.1.0" });
    const imports = ok(sh("tar", ["-xzOf", sdk, "--wildcards", "package/dist/*.js"], dir), "tar").match(/from "@shardvault\/crypto[^"]*"/g);
    assert.deepEqual([...new Set(imports)], ['from "@shardvault/crypto/client"'], "only the Node-free entry");
    assert.ok(ok(sh("tar", ["-tzf", pack("crypto")], dir), "tar").split("\n").includes("package/dist/client.js"));
    assert.equal(manifest.license, "Apache-2.0");
    assert.equal(manifest.engines.node, ">=20");
    assert.equal(manifest.exports["."].types, "./dist/index.d.ts");
    const cliFiles = ok(sh("tar", ["-tzf", cli], dir), "tar").split("\n");
    for (const file of ["package/README.md", "package/LICENSE", "package/bin/shardvault.js", "package/dist/main.js"]) assert.ok(cliFiles.includes(file), file);
  });

  test("npm init -y, npm install of the packs: the SDK type-checks under --strict --module nodenext and runs; the bin works", () => {
    const project = join(dir, "project");
    ok(sh("mkdir", ["-p", project], dir), "mkdir");
    ok(sh("npm", ["init", "-y"], project), "npm init");
    ok(sh("npm", ["install", "--no-audit", "--no-fund", ...tarballs], project), "npm install");
    writeFileSync(join(project, "consumer.mts"), CONSUMER_ESM);
    writeFileSync(join(project, "consumer.ts"), CONSUMER_CJS);
    assert.equal(JSON.parse(readFileSync(join(project, "package.json"), "utf8")).type ?? "commonjs", "commonjs");
    ok(sh(TSC, ["--strict", "--module", "nodenext", "consumer.mts", "consumer.ts"], project), "tsc");
    const esm = JSON.parse(ok(sh("node", ["consumer.mjs"], project, { URL: server.url, KEY: server.adminKey }), "node consumer.mjs"));
    assert.deepEqual(esm, { version: 1, value: "hunter2", missing: "not_found", types: esm.types });
    assert.ok(esm.types > 0);
    assert.equal(ok(sh("node", ["consumer.js"], project, { URL: server.url }), "node consumer.js"), "healthy\n");

    const help = ok(sh(join(project, "node_modules/.bin/shardvault"), ["--help"], project), "shardvault --help");
    assert.match(help, /^shardvault 0\.1\.0 — the Shardvault command line/);
    assert.match(help, /^ {2}run --vault ID/m);
  });

  test("npm install -g of the packs gives a working shardvault command; `server` says what to install", () => {
    const prefix = join(dir, "global");
    ok(sh("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", ...tarballs], dir), "npm install -g");
    const bin = join(prefix, "bin/shardvault");
    assert.match(ok(sh(bin, ["--help"], dir), "shardvault --help"), /^shardvault 0\.1\.0/);
    const env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
    assert.ok(Array.isArray(JSON.parse(ok(sh(bin, ["vault", "list", "--json"], dir, env), "shardvault vault list")).vaults));
    const vault = JSON.parse(ok(sh(bin, ["vault", "create", "global", "--json"], dir, env), "vault create")).id;
    ok(sh("bash", ["-c", `printf s3cret | "${bin}" secret put ${vault} app/token`], dir, env), "secret put");
    assert.equal(ok(sh(bin, ["run", "--vault", vault, "--prefix", "app/", "--", "node", "-p", "process.env.TOKEN"], dir, env), "shardvault run"), "s3cret\n");
    const serverCommand = sh(bin, ["server"], dir, env);
    assert.equal(serverCommand.status, 1);
    assert.match(serverCommand.stderr, /the server is not installed with this command line: install @shardvault\/server/);
  });
});
