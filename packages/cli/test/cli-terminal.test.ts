/**
 * What the command line does differently on a terminal, run under a real pseudo-terminal (`script` from
 * util-linux): `secret get` ends its value with a line break there and nowhere else; `vault delete` asks there
 * and refuses to go on without `--yes` anywhere else. And the value-file rules: a final line break is kept
 * (and said), `--trim` drops it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN, cleanEnv, cli, makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "./support.js";

interface TerminalRun {
  code: number | null;
  /** Everything the terminal showed (the pseudo-terminal writes line breaks as \r\n). */
  screen: string;
}

/** Runs `shardvault args…` with a pseudo-terminal as its standard input, output and error; `typed` is typed at it. */
function onTerminal(args: string[], env: Record<string, string>, typed = ""): Promise<TerminalRun> {
  const command = [BIN, ...args].map((word) => `'${word}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] });
    let screen = "";
    child.stdout!.on("data", (chunk: Buffer) => (screen += chunk.toString("utf8")));
    child.stderr!.on("data", (chunk: Buffer) => (screen += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, screen }));
    // Left open until the program is done: script ends the session when its input ends.
    if (typed) child.stdin!.write(typed);
    child.on("exit", () => child.stdin!.end());
  });
}

describe("on a terminal and off it", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
  });
  after(async () => {
    await server?.stop();
  });

  test("secret get: a line break after the value on a terminal, the value exactly when piped", async () => {
    const vault = (await cli(["vault", "create", "tty", "--json"], { env })).json.id;
    await cli(["secret", "put", vault, "token"], { env, input: "s3cret" });
    const shown = await onTerminal(["secret", "get", vault, "token"], env);
    assert.equal(shown.code, 0, shown.screen);
    assert.equal(shown.screen, "s3cret\r\n");
    assert.equal((await cli(["secret", "get", vault, "token"], { env })).stdout, "s3cret");
  });

  test("vault delete asks on a terminal: anything but y keeps the vault, y deletes it; --yes does not ask", async () => {
    const vault = (await cli(["vault", "create", "asked", "--json"], { env })).json.id;
    const kept = await onTerminal(["vault", "delete", vault], env, "n\n");
    assert.equal(kept.code, 1, kept.screen);
    assert.match(kept.screen, new RegExp(`Delete vault asked \\(${vault}\\) and every secret in it\\? \\[y/N\\]`));
    assert.match(kept.screen, /not confirmed: nothing was done/);
    assert.equal((await cli(["vault", "get", vault], { env })).code, 0);

    const deleted = await onTerminal(["vault", "delete", vault], env, "y\n");
    assert.equal(deleted.code, 0, deleted.screen);
    assert.match(deleted.screen, /Deleted vault/);
    assert.equal((await cli(["vault", "get", vault], { env })).code, 3);

    const other = (await cli(["vault", "create", "unasked", "--json"], { env })).json.id;
    const yes = await onTerminal(["vault", "delete", other, "--yes"], env);
    assert.equal(yes.code, 0, yes.screen);
    assert.doesNotMatch(yes.screen, /\[y\/N\]/);
  });

  test("--value-file keeps a final line break and says so; --trim drops it; --help says both", async () => {
    const vault = (await cli(["vault", "create", "trim", "--json"], { env })).json.id;
    const file = join(makeTempDir("shardvault-trim-"), "value");
    writeFileSync(file, "  padded value\n");
    const kept = await cli(["secret", "put", vault, "a", "--value-file", file], { env });
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /ends with a line break, which is stored as part of the value \(--trim drops it\)/);
    assert.equal((await cli(["secret", "get", vault, "a"], { env })).stdout, "  padded value\n");

    const trimmed = await cli(["secret", "put", vault, "a", "--value-file", file, "--trim"], { env });
    assert.equal(trimmed.code, 0, trimmed.stderr);
    assert.equal(trimmed.stderr, "");
    assert.equal((await cli(["secret", "get", vault, "a"], { env })).stdout, "padded value");
    assert.equal((await cli(["secret", "rotate", vault, "a", "--trim"], { env, input: " piped \n" })).code, 0);
    assert.equal((await cli(["secret", "get", vault, "a"], { env })).stdout, "piped");

    for (const command of ["put", "rotate"]) {
      const help = (await cli(["secret", command, "--help"])).stdout;
      assert.match(help, /--trim/);
      assert.match(help, /a final line break included/);
    }
  });
});
