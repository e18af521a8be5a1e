/** Running a command in the foreground, as a shell does: it shares our terminal, our signals reach it, its status is ours. */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { warn } from "./output.js";

/** What a terminal or a supervisor sends to stop a program; passed on to the child, which decides. */
const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Runs `file` with `args` and `env`, no shell in between, and resolves to its exit code: 128 + the signal's
 * number when a signal ended it, 127 when it was not found, 126 when it could not be run.
 */
export function runInForeground(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: "inherit", env });
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(code);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      warn(`shardvault: cannot run ${file}: ${error.message}`);
      finish(error.code === "ENOENT" ? 127 : 126);
    });
    child.on("exit", (code, signal) => finish(signal ? 128 + constants.signals[signal] : (code ?? 1)));
  });
}
