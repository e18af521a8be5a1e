/** What every command gets: the parsed options, output mode, and a client logged in as the user said. */
import { createClient, DEFAULT_BASE_URL, type ClientOptions, type ShardvaultClient } from "@shardvault/sdk";
import { readConfig } from "./config.js";
import { CliError, EXIT } from "./errors.js";

export type Options = Record<string, string | boolean | string[] | undefined>;

export interface Context {
  positionals: string[];
  options: Options;
  json: boolean;
  env: NodeJS.ProcessEnv;
  /** For `run`: the command and its arguments, given after `--`. */
  command?: string[];
}

export const str = (options: Options, name: string): string | undefined => {
  const value = options[name];
  return typeof value === "string" ? value : Array.isArray(value) ? value[value.length - 1] : undefined;
};

/** The server: `--url`, else SHARDVAULT_URL, else the URL stored at login, else the default. */
export function serverUrl(ctx: Context): string {
  return str(ctx.options, "url") || ctx.env.SHARDVAULT_URL || readConfig(ctx.env).url || DEFAULT_BASE_URL;
}

/** The key from SHARDVAULT_API_KEY, else the key or session stored by `shardvault login`; undefined when there is none. */
export function credentials(ctx: Context): ClientOptions | undefined {
  const stored = readConfig(ctx.env);
  const apiKey = ctx.env.SHARDVAULT_API_KEY || stored.api_key;
  if (!apiKey && stored.token) return { token: stored.token };
  if (!apiKey) return undefined;
  const agentId = ctx.env.SHARDVAULT_API_KEY ? ctx.env.SHARDVAULT_AGENT_ID : (stored.agent_id ?? ctx.env.SHARDVAULT_AGENT_ID);
  return { apiKey, ...(agentId ? { agentId } : {}) };
}

/** A client with the caller's credentials (see `credentials`); not being logged in is an error. */
export function client(ctx: Context): ShardvaultClient {
  const given = credentials(ctx);
  if (!given) throw new CliError("not logged in: run `shardvault login`, or set SHARDVAULT_API_KEY", EXIT.AUTH);
  return createClient({ ...given, baseUrl: serverUrl(ctx) });
}

/** A command's `<name>`: the argument, or `--name NAME`. */
export function nameArg(ctx: Context): string {
  const flag = str(ctx.options, "name");
  if (flag !== undefined && ctx.positionals.length === 0) return flag;
  return args(ctx, ["name"])[0]!;
}

/** Exactly `names.length` positional arguments after the command words. */
export function args(ctx: Context, names: string[]): string[] {
  if (ctx.positionals.length !== names.length) {
    const want = names.map((n) => `<${n}>`).join(" ");
    throw new CliError(
      ctx.positionals.length < names.length ? `missing argument: expected ${want}` : `too many arguments: expected ${want}`,
      EXIT.USAGE,
    );
  }
  return ctx.positionals;
}

export function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new CliError(`${name} must be a positive integer`, EXIT.USAGE);
  return Number(value);
}

export const list = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(",").map((s) => s.trim()).filter((s) => s !== "");
