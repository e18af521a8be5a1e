/**
 * `shardvault run` and `shardvault export`: a vault's secrets as environment variables. The values go from the
 * server's answers to the child's environment (or standard output) in memory: never to a file, never to argv.
 */
import { secretPathProblem } from "@shardvault/sdk";
import { runInForeground } from "../child.js";
import { client, str, type Context } from "../context.js";
import { dotenvLine } from "../dotenv.js";
import { CliError, EXIT, unwrap, usageError } from "../errors.js";
import { printJson, warn } from "../output.js";
import { clientSharesFrom, CLI_SHARE_HELP, readSecret, reconstructOption, shareProblem } from "../shares.js";

/**
 * The variable a path gets under `prefix`: the path less the prefix (and a `/` after it), upper-cased, every
 * character but a letter or digit turned into `_`, and `_` in front if it would start with a digit:
 * `db/password` under `db/` is `PASSWORD`, `db/replica-1/host` under `db/` is `REPLICA_1_HOST`, and with no
 * prefix `db/password` is `DB_PASSWORD`.
 */
export function envName(path: string, prefix: string): string {
  const name = path.slice(prefix.length).replace(/^\//, "").toUpperCase().replace(/[^A-Z0-9]/g, "_");
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--env NAME=path`, each checked. */
function explicitNames(ctx: Context): Map<string, string> {
  const given = ctx.options.env;
  const mappings = new Map<string, string>();
  for (const mapping of Array.isArray(given) ? given : []) {
    const eq = mapping.indexOf("=");
    const [name, path] = eq === -1 ? [mapping, ""] : [mapping.slice(0, eq), mapping.slice(eq + 1)];
    if (!ENV_NAME.test(name)) throw usageError(`--env ${mapping}: give NAME=path, NAME made of letters, digits and _ (not starting with a digit)`);
    const problem = secretPathProblem(path);
    if (problem) throw usageError(`--env ${mapping}: ${problem}`);
    if (mappings.has(name)) throw usageError(`--env sets ${name} twice`);
    mappings.set(name, path);
  }
  return mappings;
}

/**
 * Which path each variable comes from: every `--env NAME=path`, and (with `--prefix`, or when no `--env` is
 * given) every secret under the prefix by its derived name. An `--env` name wins over a derived one; two paths
 * deriving the same name are refused.
 */
async function selection(ctx: Context, vault: string): Promise<Map<string, string>> {
  const explicit = explicitNames(ctx);
  const prefix = str(ctx.options, "prefix");
  if (prefix === undefined && explicit.size > 0) return explicit;
  const { secrets } = unwrap(await client(ctx).secrets.list(vault, prefix));
  if (secrets.length === 0) warn(`shardvault: no secret in the vault${prefix ? ` under ${prefix}` : ""}`);
  const derived = new Map<string, string>();
  for (const { path } of secrets) {
    const name = envName(path, prefix ?? "");
    if (explicit.has(name)) continue;
    const other = derived.get(name);
    if (other !== undefined) throw usageError(`${other} and ${path} would both be ${name}: name one of them with --env NAME=path, or narrow --prefix`);
    if (!ENV_NAME.test(name)) throw usageError(`${path} gives no variable name under the prefix ${JSON.stringify(prefix ?? "")}: name it with --env NAME=path`);
    derived.set(name, path);
  }
  return new Map([...derived, ...explicit]);
}

/** The variables and their values, sorted by name. */
async function secretEnvironment(ctx: Context): Promise<Array<[name: string, value: string]>> {
  const vault = str(ctx.options, "vault") ?? ctx.env.SHARDVAULT_VAULT_ID;
  if (!vault) throw usageError("which vault? give --vault ID (or set SHARDVAULT_VAULT_ID)");
  const sdk = client(ctx);
  const shares = clientSharesFrom(str(ctx.options, "client-share-file"), ctx.env);
  const reconstruct = reconstructOption(str(ctx.options, "reconstruct"));
  const chosen = [...(await selection(ctx, vault))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    chosen.map(async ([name, path]): Promise<[string, string]> => {
      const { value } = unwrap(await readSecret(sdk, vault, path, shares, { reconstruct }), (error) => shareProblem(error, path, shares, CLI_SHARE_HELP));
      if (value.includes("\0")) throw new CliError(`the value of ${path} holds a NUL character, which an environment variable (${name}) cannot carry`, EXIT.ERROR);
      return [name, value];
    }),
  );
}

export const envCommands = {
  /** Runs the command after `--` with the secrets added to this environment; resolves to its exit code. */
  async run(ctx: Context): Promise<number> {
    const [file, ...args] = ctx.command ?? [];
    if (ctx.positionals.length > 0 || file === undefined) throw usageError("give the command after --: shardvault run --vault ID [--prefix P] -- command args…");
    const secrets = await secretEnvironment(ctx);
    return runInForeground(file, args, { ...ctx.env, ...Object.fromEntries(secrets) });
  },

  /** Prints the secrets as a .env file (the default) or a JSON object. */
  async export(ctx: Context): Promise<void> {
    if (ctx.positionals.length > 0) throw usageError("shardvault export takes no arguments, only options");
    const format = str(ctx.options, "format") ?? (ctx.json ? "json" : "dotenv");
    if (format !== "dotenv" && format !== "json") throw usageError("--format is dotenv or json");
    if (ctx.json && format !== "json") throw usageError("--json asks for --format json");
    const secrets = await secretEnvironment(ctx);
    if (format === "json") printJson(Object.fromEntries(secrets));
    else process.stdout.write(secrets.map(([name, value]) => dotenvLine(name, value)).join(""));
  },
};
