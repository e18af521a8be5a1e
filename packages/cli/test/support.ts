/** Running `shardvault` as a user would: the linked bin, a child process, real standard streams. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "../../server/test/support/harness.js";

export { makeTempDir, REPO_ROOT, startServer, type ServerHandle };

/** The bin as npm links it into the repository root. */
export const BIN = join(REPO_ROOT, "node_modules/.bin/shardvault");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs); undefined when it is not JSON. */
  json: any;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed; without it standard input is empty (/dev/null). */
  input?: string;
  timeoutMs?: number;
}

/** An environment with nothing of the caller's Shardvault settings, and a config file of its own. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("SHARDVAULT_") || name.startsWith("ONECLAW_") || name === "NODE_TEST_CONTEXT" || name === "NODE_OPTIONS") continue;
    env[name] = value;
  }
  env.SHARDVAULT_CLI_CONFIG = join(makeTempDir("shardvault-cli-"), "config.json");
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export function cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, {
      cwd: REPO_ROOT,
      env: cleanEnv(opts.env),
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`shardvault ${args.join(" ")} did not finish\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, signal, stdout, stderr, json });
    });
  });
}
