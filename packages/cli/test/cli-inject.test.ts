/**
 * `shardvault run` and `shardvault export` against a real server: which secrets become which variables, the
 * command run with them (its exit code and the signals passed on to it), client-custody vaults read with a
 * share file, and .env output that a shell reads back exactly.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@shardvault/sdk";
import { dotenvValue } from "../src/dotenv.js";
import { envName } from "../src/commands/env.js";
import { BIN, cleanEnv, cli, makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "./support.js";

/** A node one-liner that prints the named variables of its environment as JSON. */
const printEnv = (...names: string[]) => ["node", "-e", `const n=${JSON.stringify(names)};console.log(JSON.stringify(Object.fromEntries(n.map(k=>[k,process.env[k]??null]))))`];

const NASTY: Record<string, string> = {
  plain: "postgres://db.internal:5432/app?ssl=true",
  spaces: "a value with  spaces",
  single: "it's",
  double: 'say "hi"',
  dollar: "$HOME and ${USER} and $(id)",
  newline: "line one\nline two\n",
  backslash: "back\\slash\\n",
  backquote: "`id`",
  hash: "#not a comment",
  tab: "tab\there",
  unicode: "ünïcödé 🔑",
  everything: "it's \"all\" $HOME `id` \\ \n end",
  leadingequals: "=x=y",
};

describe("run and export", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  let vault: string;
  const dir = makeTempDir("shardvault-inject-");
  const expectExit = async (args: string[], code: number, extra: Record<string, string | undefined> = {}) => {
    const res = await cli(args, { env: { ...env, ...extra } });
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };

  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
    const sdk = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    vault = (await sdk.vault.create({ name: "inject" })).data!.id;
    const values: Record<string, string> = {
      "db/password": NASTY.everything!,
      "db/user": "admin",
      "db/replica-1/host": "10.0.0.2",
      "other/token": "tok",
      ...Object.fromEntries(Object.entries(NASTY).map(([k, v]) => [`nasty/${k}`, v])),
    };
    for (const [path, value] of Object.entries(values)) assert.equal((await sdk.secrets.set(vault, path, value)).meta.status, 201);
  });
  after(async () => {
    await server?.stop();
  });

  test("names are derived from the path under --prefix as --help says", () => {
    assert.equal(envName("db/password", "db/"), "PASSWORD");
    assert.equal(envName("db/password", "db"), "PASSWORD");
    assert.equal(envName("db/replica-1/host", "db/"), "REPLICA_1_HOST");
    assert.equal(envName("db/password", ""), "DB_PASSWORD");
    assert.equal(envName("keys/1st.key", "keys/"), "_1ST_KEY");
  });

  test("run --prefix: the command sees each secret under its derived name, values exact, the rest of the environment kept", async () => {
    const res = await expectExit(["run", "--vault", vault, "--prefix", "db/", "--", ...printEnv("PASSWORD", "USER", "REPLICA_1_HOST", "TOKEN", "KEPT")], 0, { KEPT: "yes" });
    assert.deepEqual(JSON.parse(res.stdout), { PASSWORD: NASTY.everything, USER: "admin", REPLICA_1_HOST: "10.0.0.2", TOKEN: null, KEPT: "yes" });
    assert.equal(res.stderr, "");
    // No prefix, no --env: every secret, named by its whole path.
    const all = await expectExit(["run", "--vault", vault, "--", ...printEnv("DB_USER", "OTHER_TOKEN", "NASTY_UNICODE")], 0);
    assert.deepEqual(JSON.parse(all.stdout), { DB_USER: "admin", OTHER_TOKEN: "tok", NASTY_UNICODE: NASTY.unicode });
    // SHARDVAULT_VAULT_ID names the vault too.
    const byEnv = await expectExit(["run", "--prefix", "other/", "--", ...printEnv("TOKEN")], 0, { SHARDVAULT_VAULT_ID: vault });
    assert.deepEqual(JSON.parse(byEnv.stdout), { TOKEN: "tok" });
  });

  test("--env NAME=path: only those without --prefix, and they win over derived names with it", async () => {
    const only = await expectExit(["run", "--vault", vault, "--env", "DATABASE_USER=db/user", "--env", "T=other/token", "--", ...printEnv("DATABASE_USER", "T", "PASSWORD", "DB_PASSWORD")], 0);
    assert.deepEqual(JSON.parse(only.stdout), { DATABASE_USER: "admin", T: "tok", PASSWORD: null, DB_PASSWORD: null });
    const both = await expectExit(["run", "--vault", vault, "--prefix", "db/", "--env", "USER=other/token", "--", ...printEnv("USER", "PASSWORD")], 0);
    assert.deepEqual(JSON.parse(both.stdout), { USER: "tok", PASSWORD: NASTY.everything });
  });

  test("usage errors: no command, no vault, a bad --env, two paths giving one name; a missing secret is not found", async () => {
    assert.match((await expectExit(["run", "--vault", vault], 2)).stderr, /give the command after --/);
    assert.match((await expectExit(["run", "--", "true"], 2)).stderr, /which vault\?/);
    await expectExit(["run", "--vault", vault, "--env", "1X=db/user", "--", "true"], 2);
    await expectExit(["run", "--vault", vault, "--env", "X=../db", "--", "true"], 2);
    await expectExit(["run", "--vault", vault, "--env", "X", "--", "true"], 2);
    await expectExit(["run", "--vault", vault, "--env", "X=db/user", "--env", "X=db/password", "--", "true"], 2);
    const sdk = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const clash = (await sdk.vault.create({ name: "clash" })).data!.id;
    await sdk.secrets.set(clash, "api-key", "1");
    await sdk.secrets.set(clash, "api_key", "2");
    const refused = await expectExit(["run", "--vault", clash, "--", "true"], 2);
    assert.match(refused.stderr, /api-key and api_key would both be API_KEY/);
    // Naming it resolves the clash.
    const named = await expectExit(["run", "--vault", clash, "--prefix", "", "--env", "API_KEY=api_key", "--", ...printEnv("API_KEY")], 0);
    assert.deepEqual(JSON.parse(named.stdout), { API_KEY: "2" });
    await expectExit(["run", "--vault", vault, "--env", "X=no/such", "--", "true"], 3);
  });

  test("the command's exit code is shardvault's; a command that is not found is 127; one killed by a signal 128 + its number", async () => {
    await expectExit(["run", "--vault", vault, "--prefix", "db/", "--", "node", "-e", "process.exit(7)"], 7);
    await expectExit(["run", "--vault", vault, "--prefix", "db/", "--", "no-such-command-anywhere"], 127);
    await expectExit(["run", "--vault", vault, "--prefix", "db/", "--", "node", "-e", "process.kill(process.pid, 'SIGKILL')"], 128 + 9);
    // Arguments after -- are the command's, even when they look like shardvault's options.
    const passed = await expectExit(["run", "--vault", vault, "--prefix", "db/", "--", "node", "-e", "console.log(process.argv.slice(1).join(' '))", "--", "--json", "--vault", "x"], 0);
    assert.equal(passed.stdout, "--json --vault x\n");
  });

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    test(`${signal} sent to shardvault reaches the command, and its exit code comes back`, async () => {
      const script = `process.on(${JSON.stringify(signal)}, () => { console.log("got " + ${JSON.stringify(signal)}); process.exit(42); }); console.log("ready"); setInterval(() => {}, 1000);`;
      const child = spawn(BIN, ["run", "--vault", vault, "--prefix", "db/", "--", "node", "-e", script], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      const ready = new Promise<void>((resolve) =>
        child.stdout!.on("data", (chunk: Buffer) => {
          stdout += chunk;
          if (stdout.includes("ready")) resolve();
        }),
      );
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (code, sig) => resolve([code, sig])));
      await ready;
      child.kill(signal);
      assert.deepEqual(await exited, [42, null]);
      assert.match(stdout, new RegExp(`got ${signal}`));
    });
  }

  test("a command that does not handle the signal dies of it: shardvault exits 128 + 15 for SIGTERM", async () => {
    const child = spawn(BIN, ["run", "--vault", vault, "--prefix", "db/", "--", "node", "-e", "console.log('ready'); setInterval(() => {}, 1000)"], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 143);
  });

  test("export --format dotenv: a shell that sources the file gets every value back exactly", async () => {
    const res = await expectExit(["export", "--vault", vault, "--prefix", "nasty/"], 0);
    const file = join(dir, "nasty.env");
    writeFileSync(file, res.stdout, { mode: 0o600 });
    const names = Object.keys(NASTY).map((k) => k.toUpperCase());
    const sourced = spawnSync("bash", ["-c", `set -a; . "$1"; exec ${printEnv(...names).map((w) => `'${w}'`).join(" ")}`, "bash", file], { env: { PATH: process.env.PATH }, encoding: "utf8" });
    assert.equal(sourced.status, 0, sourced.stderr);
    assert.deepEqual(JSON.parse(sourced.stdout), Object.fromEntries(Object.entries(NASTY).map(([k, v]) => [k.toUpperCase(), v])));
    // Sorted by name, one NAME=value a variable.
    assert.match(res.stdout, /^BACKQUOTE='`id`'\nBACKSLASH='back\\slash\\n'\nDOLLAR='\$HOME and \$\{USER\} and \$\(id\)'\n/);
  });

  test("dotenv quoting: bare, single-quoted, or double-quoted with escapes, as --help says", () => {
    assert.equal(dotenvValue("postgres://u@h:5432/db=1,2%20+-_."), "postgres://u@h:5432/db=1,2%20+-_.");
    assert.equal(dotenvValue("https://h/?q=1"), "'https://h/?q=1'");
    assert.equal(dotenvValue(""), "''");
    assert.equal(dotenvValue('a "b" $c \\d\ne'), `'a "b" $c \\d\ne'`);
    assert.equal(dotenvValue("it's $5 \"x\" `y` \\z"), '"it\'s \\$5 \\"x\\" \\`y\\` \\\\z"');
  });

  test("export --format json (or --json) is one JSON object; other formats are refused", async () => {
    const expected = { PASSWORD: NASTY.everything, USER: "admin", REPLICA_1_HOST: "10.0.0.2" };
    assert.deepEqual((await expectExit(["export", "--vault", vault, "--prefix", "db/", "--format", "json"], 0)).json, expected);
    assert.deepEqual((await expectExit(["export", "--vault", vault, "--prefix", "db/", "--json"], 0)).json, expected);
    await expectExit(["export", "--vault", vault, "--format", "yaml"], 2);
    await expectExit(["export", "--vault", vault, "--json", "--format", "dotenv"], 2);
  });

  test("client custody: values read with the share file --client-share-out wrote; a missing share is said in the CLI's words", async () => {
    const custody = (await cli(["vault", "create", "custody", "--mode", "2of2_client_custody", "--json"], { env })).json.id;
    const shares = join(dir, "custody-shares.json");
    for (const [path, value] of [["app/db-url", "postgres://x"], ["app/api-key", "k1"]]) {
      await cli(["secret", "put", custody, path!, "--client-share-out", shares], { env, input: value });
    }
    const ok = await expectExit(["run", "--vault", custody, "--prefix", "app/", "--client-share-file", shares, "--", ...printEnv("DB_URL", "API_KEY")], 0);
    assert.deepEqual(JSON.parse(ok.stdout), { DB_URL: "postgres://x", API_KEY: "k1" });
    assert.deepEqual((await expectExit(["export", "--vault", custody, "--client-share-file", shares, "--json"], 0)).json, { APP_API_KEY: "k1", APP_DB_URL: "postgres://x" });

    const none = await expectExit(["run", "--vault", custody, "--prefix", "app/", "--", "true"], 1);
    assert.match(none.stderr, /client-custody vault: reading it needs its client share; give it with --client-share-file FILE/);
    await cli(["secret", "put", custody, "app/new"], { env, input: "v" });
    const lacking = await expectExit(["run", "--vault", custody, "--prefix", "app/", "--client-share-file", shares, "--", "true"], 1);
    assert.match(lacking.stderr, new RegExp(`--client-share-file ${shares} has no client share for app/new`));
  });
});
