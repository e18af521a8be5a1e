/**
 * Where the CLI keeps its login: `${XDG_CONFIG_HOME:-~/.config}/shardvault/config.json` (mode 0600, in a
 * 0700 folder), or the file named by SHARDVAULT_CLI_CONFIG.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "./errors.js";

export interface StoredConfig {
  url?: string;
  api_key?: string;
  agent_id?: string;
  /** A member's session token from `login --email` (it expires; sign in again then). */
  token?: string;
  email?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SHARDVAULT_CLI_CONFIG) return env.SHARDVAULT_CLI_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "shardvault", "config.json");
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): StoredConfig {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`, EXIT.ERROR);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed as StoredConfig;
  } catch (error) {
    throw new CliError(`${path} is not valid: ${(error as Error).message}`, EXIT.ERROR);
  }
}

/** Writes the config atomically, readable by its owner only. */
export function writeConfig(config: StoredConfig, env: NodeJS.ProcessEnv = process.env): string {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600, flag: "w" });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
  return path;
}

export function removeConfig(env: NodeJS.ProcessEnv = process.env): string {
  const path = configPath(env);
  rmSync(path, { force: true });
  return path;
}
