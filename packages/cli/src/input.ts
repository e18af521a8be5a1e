/** Reading secret material: from a file, from standard input, or from a prompt that does not echo. */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { CliError, EXIT, usageError } from "./errors.js";
import { warn } from "./output.js";

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
 * A secret value: `--value-file` (exactly its content, a final line break included; `-` is standard input),
 * else standard input when it is not a terminal (one trailing newline dropped, as `echo` adds it), else a
 * prompt. Never from argv, where it would land in the shell history and the process list. `trim` drops
 * whitespace (line breaks included) at both ends, whatever the source.
 */
export async function readSecretValue(valueFile: string | undefined, what: string, trim: boolean): Promise<string> {
  const value = await untrimmedValue(valueFile, what);
  if (trim) return value.trim();
  if (valueFile !== undefined && /\r?\n$/.test(value)) warn(`note: ${valueFile} ends with a line break, which is stored as part of the value (--trim drops it)`);
  return value;
}

async function untrimmedValue(valueFile: string | undefined, what: string): Promise<string> {
  if (valueFile !== undefined) return readFileValue(valueFile, what);
  if (process.stdin.isTTY) return promptHidden(`${what}: `);
  const value = (await readStdin()).replace(/\r?\n$/, "");
  // Nothing piped in is almost certainly a mistake; an empty value can still come from an empty file.
  if (value === "") throw usageError(`no value on standard input: pipe ${what.replace(/ for .*/, "")} in, or use --value-file FILE`);
  return value;
}

/** Refuses secret material given on the command line. */
export function refuseArgvSecret(given: boolean, option: string, instead: string): void {
  if (given) throw usageError(`${option} is not accepted: values on the command line end up in shell history and the process list; ${instead}`);
}

/**
 * Asks a yes/no question on the terminal and goes on only on `y` or `yes`. Without a terminal nobody can
 * answer, so that is refused (before `question` is worked out), naming the option (`skip`) that goes ahead
 * without asking.
 */
export async function confirm(question: () => Promise<string>, command: string, skip: string): Promise<void> {
  if (!process.stdin.isTTY) throw usageError(`${command} asks for confirmation, and standard input is not a terminal: pass ${skip} to go ahead`);
  const text = await question();
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      prompt.on("SIGINT", () => reject(new CliError("cancelled", 130)));
      prompt.on("close", () => resolve(""));
      prompt.question(`${text} [y/N] `).then(resolve, reject);
    });
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError("not confirmed: nothing was done", EXIT.ERROR);
  } finally {
    prompt.close();
  }
}
