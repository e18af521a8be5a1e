/** Shared pieces of the SDK tests: a real server (the server suite's harness), and running TypeScript files as a user would. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { REPO_ROOT, startServer, type ServerHandle } from "../../server/test/support/harness.js";

export { REPO_ROOT, startServer, type ServerHandle };

export const SNIPPETS_DIR = fileURLToPath(new URL("./seed-snippets/", import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file through the repository's runner (tsx) as a child process, from the repository root. */
export function runTs(file: string, env: Record<string, string>, timeoutMs = 60_000): Promise<RunResult> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith("SHARDVAULT_") || name.startsWith("ONECLAW_") || name === "NODE_TEST_CONTEXT" || name === "NODE_OPTIONS") continue;
    childEnv[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: REPO_ROOT, env: { ...childEnv, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The `STEP {"name", "value"}` lines a seed snippet prints, by name. */
export function steps(stdout: string): Record<string, any> {
  const out: Record<string, any> = {};
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("STEP ")) continue;
    const { name, value } = JSON.parse(line.slice(5)) as { name: string; value: unknown };
    out[name] = value;
  }
  return out;
}
