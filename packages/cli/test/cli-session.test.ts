/**
 * The rest of the command line as a user meets it: help and usage, `npx shardvault` from the repository
 * root, `shardvault login` / `logout` (the key stored with mode 0600 where the issue says), and
 * `shardvault server` (the same server as `npm start`).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, cleanEnv, cli, makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "./support.js";

const COMMANDS = [
  "server", "login", "logout",
  "vault create", "vault list", "vault get", "vault delete", "vault enable-mpc",
  "secret put", "secret get", "secret list", "secret versions", "secret delete", "secret rotate",
  "agent create", "agent list", "agent rotate-key",
  "run", "export", "mcp",
];

describe("help and usage", () => {
  test("--help lists every command and exits 0; no command is a usage error", async () => {
    const help = await cli(["--help"]);
    assert.equal(help.code, 0);
    for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, "m"), command);
    assert.match(help.stdout, /Exit codes: 0 success, 1 other error, 2 usage, 3 not found, 4 authentication or permission/);
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: shardvault/);
    assert.equal((await cli(["help"])).code, 0);
    assert.equal((await cli(["--version"])).stdout, "0.1.0\n");
  });

  test("every command has its own --help", async () => {
    for (const command of COMMANDS) {
      const res = await cli([...command.split(" "), "--help"]);
      assert.equal(res.code, 0, command);
      assert.match(res.stdout, new RegExp(`^Usage: shardvault ${command}`, "m"));
    }
    const group = await cli(["secret", "--help"]);
    assert.equal(group.code, 0);
    assert.ok(!group.stdout.includes("vault create"));
    assert.equal((await cli(["secret"])).code, 2);
    assert.equal((await cli(["nope"])).code, 2);
    assert.equal((await cli(["--nope"])).code, 2);
  });

  test("npx shardvault --help works from the repository root", () => {
    const res = spawnSync("npx", ["--no-install", "shardvault", "--help"], { cwd: REPO_ROOT, env: cleanEnv(), encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^shardvault 0\.1\.0/);
    // The linked bin is executable as it is (npm links it; git keeps its mode).
    assert.ok(statSync(BIN).mode & 0o111);
  });
});

describe("login and logout", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite" });
  });
  after(async () => {
    await server?.stop();
  });

  test("login checks the key from standard input and stores it in SHARDVAULT_CLI_CONFIG with mode 0600", async () => {
    const config = join(makeTempDir("shardvault-login-"), "nested", "cli.json");
    const env = { SHARDVAULT_CLI_CONFIG: config };
    const res = await cli(["login", "--url", server.url], { env, input: `${server.adminKey}\n` });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(!res.stdout.includes(server.adminKey));
    assert.equal(statSync(config).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(config, "utf8")), { url: server.url, api_key: server.adminKey });

    // Later commands use it: no SHARDVAULT_API_KEY, no --url.
    const created = await cli(["vault", "create", "after-login", "--json"], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json.name, "after-login");

    const out = await cli(["logout"], { env });
    assert.equal(out.code, 0);
    assert.equal(existsSync(config), false);
    assert.equal((await cli(["vault", "list"], { env: { ...env, SHARDVAULT_URL: server.url } })).code, 4);
  });

  test("without SHARDVAULT_CLI_CONFIG the key goes to $XDG_CONFIG_HOME/shardvault/config.json; --api-key-file works", async () => {
    const xdg = makeTempDir("shardvault-xdg-");
    const keyFile = join(xdg, "key");
    writeFileSync(keyFile, server.adminKey, { mode: 0o600 });
    const env = { SHARDVAULT_CLI_CONFIG: undefined, XDG_CONFIG_HOME: xdg, SHARDVAULT_URL: server.url };
    const res = await cli(["login", "--api-key-file", keyFile], { env });
    assert.equal(res.code, 0, res.stderr);
    const path = join(xdg, "shardvault", "config.json");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(path, "utf8")).api_key, server.adminKey);
    assert.equal((await cli(["vault", "list", "--json"], { env })).code, 0);
    // HOME without XDG_CONFIG_HOME: ~/.config/shardvault/config.json.
    const home = makeTempDir("shardvault-home-");
    const homeEnv = { SHARDVAULT_CLI_CONFIG: undefined, XDG_CONFIG_HOME: undefined, HOME: home, SHARDVAULT_URL: server.url };
    assert.equal((await cli(["login"], { env: homeEnv, input: server.adminKey })).code, 0);
    assert.equal(statSync(join(home, ".config", "shardvault", "config.json")).mode & 0o777, 0o600);
  });

  test("SHARDVAULT_API_KEY is used over the stored key", async () => {
    const config = join(makeTempDir("shardvault-login-"), "config.json");
    writeFileSync(config, JSON.stringify({ url: server.url, api_key: "1ck_" + "w".repeat(43) }), { mode: 0o600 });
    assert.equal((await cli(["vault", "list"], { env: { SHARDVAULT_CLI_CONFIG: config } })).code, 4);
    assert.equal((await cli(["vault", "list"], { env: { SHARDVAULT_CLI_CONFIG: config, SHARDVAULT_API_KEY: server.adminKey } })).code, 0);
  });

  test("a wrong key is refused (exit 4) and not stored; a key on argv is a usage error; an agent key logs in as the agent", async () => {
    const config = join(makeTempDir("shardvault-login-"), "config.json");
    const env = { SHARDVAULT_CLI_CONFIG: config, SHARDVAULT_URL: server.url };
    assert.equal((await cli(["login"], { env, input: "1ck_" + "z".repeat(43) })).code, 4);
    assert.equal(existsSync(config), false);
    assert.equal((await cli(["login", "--api-key", server.adminKey], { env })).code, 2);
    assert.equal((await cli(["login"], { env, input: "not-a-key" })).code, 2);
    assert.equal(existsSync(config), false);

    const agent = (await cli(["agent", "create", "login-agent", "--json"], { env: { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey } })).json;
    assert.equal((await cli(["login", "--agent-id", agent.agent.id], { env, input: agent.api_key })).code, 0);
    assert.equal(JSON.parse(readFileSync(config, "utf8")).agent_id, agent.agent.id);
    assert.equal((await cli(["vault", "list"], { env })).code, 0, "agents may list their vaults");
    assert.equal((await cli(["vault", "create", "x"], { env })).code, 4, "but not create them");
  });

  test("login against an unreachable server exits 5 and stores nothing", async () => {
    const config = join(makeTempDir("shardvault-login-"), "config.json");
    const res = await cli(["login", "--url", "http://127.0.0.1:9"], { env: { SHARDVAULT_CLI_CONFIG: config }, input: server.adminKey });
    assert.equal(res.code, 5);
    assert.equal(existsSync(config), false);
  });
});

describe("shardvault server", () => {
  test("runs the vault server like npm start, and stops on SIGTERM with exit 0", async () => {
    const data = makeTempDir("shardvault-cli-server-");
    const child = spawn(BIN, ["server"], {
      cwd: REPO_ROOT,
      env: cleanEnv({ PORT: "0", HOST: "127.0.0.1", SHARDVAULT_DATA_DIR: data }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c));
    child.stderr!.on("data", (c: Buffer) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 60_000);
        const check = () => {
          const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout!.on("data", check);
        child.stderr!.on("data", check);
      });
      const key = /Admin API key \(shown once\): (\S+)/.exec(output)![1]!;
      const res = await cli(["vault", "create", "served", "--json"], { env: { SHARDVAULT_URL: url, SHARDVAULT_API_KEY: key } });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.json.name, "served");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM received/);
  });

  test("a start-up failure exits non-zero with the reason", async () => {
    const res = await cli(["server"], { env: { HOST: "0.0.0.0", PORT: "0", SHARDVAULT_DATA_DIR: makeTempDir("shardvault-cli-server-") } });
    assert.equal(res.code, 1);
    assert.match(res.stderr, /not loopback/);
  });
});
