/**
 * A key-provider backend as the configuration file knows it: which fields a slot of this backend takes, how
 * they are checked, which trust domain they resolve to, and how the provider is built.
 */
import type { Logger } from "../log.js";
import type { KeyProvider } from "./provider.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface BackendContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Folder holding the configuration file; relative file names in it resolve from here. */
  configDir: string;
}

export interface Backend<C> {
  readonly name: string;
  /** Checks a slot's fields (the `backend` key aside); throws ConfigError naming the slot and the key. */
  parse(slot: string, fields: Record<string, unknown>, ctx: BackendContext): C;
  /**
   * What the slot's trust rests on (key file, module + token, endpoint + credentials, vault URL): two slots
   * with the same trust domain are one party, not two.
   */
  trustDomain(config: C): string;
  /** Whether the slot uses one shared KEK for all vaults (`kek_strategy: "shared"`). */
  sharedKek?(config: C): boolean;
  /** Whether the slot's wraps can be made with a public key (`KeyProvider.forgeableWraps`); false when absent. */
  forgeableWraps?(config: C): boolean;
  /**
   * Backends whose key material is a file on this machine, created by `create` when absent: the file. Start-up
   * checks it first (config/key-files.ts), so a used slot never gets a fresh one.
   */
  keyFile?(config: C): string;
  create(slot: string, config: C, ctx: BackendContext): Promise<KeyProvider>;
}

/** Field readers for `parse` implementations: each names the slot and the key when it refuses. */
export function fieldReader(slot: string, backend: string, fields: Record<string, unknown>, allowed: readonly string[]) {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) throw new ConfigError(`providers.${slot}: unknown key "${key}" for backend ${backend}`);
  }
  const where = (key: string) => `providers.${slot}.${key}`;
  return {
    string(key: string): string {
      const value = fields[key];
      if (typeof value !== "string" || value === "") throw new ConfigError(`${where(key)} must be a non-empty string`);
      return value;
    },
    optionalString(key: string): string | undefined {
      if (fields[key] === undefined) return undefined;
      return this.string(key);
    },
    optionalEnum<T extends string>(key: string, values: readonly T[]): T | undefined {
      const value = fields[key];
      if (value === undefined) return undefined;
      if (typeof value !== "string" || !values.includes(value as T)) {
        throw new ConfigError(`${where(key)} must be one of ${values.join(", ")}`);
      }
      return value as T;
    },
    /** Secrets come from the environment: `key` names the variable, never the value. */
    envVarName(key: string): string {
      const name = this.string(key);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`${where(key)} must name an environment variable`);
      return name;
    },
  };
}
