/** Reading secret material: from a file, from standard input, or from a prompt that does not echo. */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { CliError, EXIT, usageError } from "./errors.js";

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = "";
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (error?: Error) => {
      stdin.setRawMode?.(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return done();
        if (ch === "\u0003") return done(new CliError("cancelled", 130));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on("data", onData);
  });
}

export function readFileValue(path: string, what: string): string {
  try {
    return path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${what} from ${path}: ${(error as Error).message}`, EXIT.ERROR);
  }
}

/**
 * A secret value: `--value-file` (exactly its content; `-` is standard input), else standard input when it
 * is not a terminal (one trailing newline dropped, as `echo` adds it), else a prompt. Never from argv,
 * where it would land in the shell history and the process list.
 */
export async function readSecretValue(valueFile: string | undefined, what: string): Promise<string> {
  if (valueFile !== undefined) return readFileValue(valueFile, what);
  if (!process.stdin.isTTY) {
    const value = (await readStdin()).replace(/\r?\n$/, "");
    // Nothing piped in is almost certainly a mistake; an empty value can still come from an empty file.
    if (value === "") throw usageError(`no value on standard input: pipe ${what.replace(/ for .*/, "")} in, or use --value-file FILE`);
    return value;
  }
  return promptHidden(`${what}: `);
}

/** Refuses secret material given on the command line. */
export function refuseArgvSecret(given: boolean, option: string, instead: string): void {
  if (given) throw usageError(`${option} is not accepted: values on the command line end up in shell history and the process list; ${instead}`);
}

/**
 * The client share for a read: `--client-share-file`, else SHARDVAULT_CLIENT_SHARE, else
 * ONECLAW_CLIENT_SHARE; undefined when none is given (vaults without client custody need none).
 */
export function clientShareFrom(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file !== undefined) return readFileValue(file, "the client share").trim();
  const fromEnv = env.SHARDVAULT_CLIENT_SHARE || env.ONECLAW_CLIENT_SHARE;
  return fromEnv ? fromEnv.trim() : undefined;
}

/** Checks before a write that `--client-share-out` can be written, so a share is not lost after the fact. */
export function checkWritableTarget(path: string): void {
  if (path === "") throw usageError("--client-share-out needs a file name");
}

/** Writes client share material to `path`, readable by its owner only (an existing file is replaced). */
export function writeSecretFile(path: string, content: string): void {
  if (existsSync(path)) unlinkSync(path);
  writeFileSync(path, content, { mode: 0o600, flag: "wx" });
}
