/**
 * The deployment: which provider slots exist, which is the default, the plan and the limits. From the JSON
 * file named by SHARDVAULT_CONFIG, or, without one, the embedded development default (three local slots).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, resolve } from "node:path";
import type { Logger } from "../log.js";
import { ConfigError, type Backend, type BackendContext } from "../providers/backend.js";
import { BACKENDS } from "../providers/backends.js";
import { withDeadline } from "../providers/deadline.js";
import { localKeyFile } from "../providers/local.js";
import { observed, type ProviderCallObserver } from "../providers/observed.js";
import type { KeyProvider } from "../providers/provider.js";
import { createRegistry, type ProviderRegistry } from "../providers/registry.js";
import { unavailableProvider } from "../providers/unavailable.js";
import type { Settings } from "./env.js";
import { DEFAULT_RATE_LIMITS, parseRateLimits, type RateLimits } from "./rate-limits.js";

export const PLANS = ["free", "pro", "team", "business", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

const TOP_LEVEL_KEYS = ["default_provider", "deadline_ms", "plan", "providers", "allow_shared_trust_domain", "reprotect_max_versions", "rate_limits", "trust_proxy", "metrics"];
const SLOT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const DEVELOPMENT_SLOTS = ["gcp", "aws", "azure"];

export interface SlotConfig {
  slot: string;
  backend: Backend<unknown>;
  config: unknown;
}

export interface Deployment {
  /** True for the embedded default: local providers, labelled as development. */
  development: boolean;
  defaultProvider: string;
  deadlineMs: number;
  plan: Plan;
  reprotectMaxVersions: number;
  /** Set when the file allowed two slots in one trust domain; health then reports degraded. */
  sharedTrustDomain: boolean;
  /** The configuration file's folder (relative names in it resolve from here). */
  configDir: string;
  slots: SlotConfig[];
  rateLimits: RateLimits;
  /**
   * Which peers may say who the client is (X-Forwarded-For): none (false), any (true), or these addresses and
   * CIDRs. Fastify's `trustProxy`; it decides `request.ip` for rate limits, policies and audit.
   */
  trustProxy: TrustProxy;
  /** The bearer token GET /metrics needs (the value of `metrics.bearer_token_env`); open without one. */
  metricsToken: string | undefined;
}

export type TrustProxy = boolean | string[];

function readPlan(value: unknown, where: string): Plan {
  if (typeof value !== "string" || !PLANS.includes(value as Plan)) throw new ConfigError(`${where} must be one of ${PLANS.join(", ")}`);
  return value as Plan;
}

function positiveInteger(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new ConfigError(`${where} must be a positive integer`);
  return value as number;
}

export function loadDeployment(settings: Settings, env: NodeJS.ProcessEnv, log: Logger): Deployment {
  const envPlan = env.SHARDVAULT_PLAN ? readPlan(env.SHARDVAULT_PLAN, "SHARDVAULT_PLAN") : undefined;
  if (!settings.configFile) {
    return {
      development: true,
      defaultProvider: "gcp",
      deadlineMs: 3000,
      plan: envPlan ?? "enterprise",
      reprotectMaxVersions: 1000,
      sharedTrustDomain: false,
      configDir: process.cwd(),
      slots: DEVELOPMENT_SLOTS.map((slot) => ({
        slot,
        backend: BACKENDS.get("local")!,
        config: { keyFile: localKeyFile(settings.keysDir, slot) },
      })),
      rateLimits: DEFAULT_RATE_LIMITS,
      trustProxy: false,
      metricsToken: undefined,
    };
  }

  const path = resolve(settings.configFile);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`cannot read SHARDVAULT_CONFIG ${path}: ${(error as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError("the configuration must be a JSON object");
  const file = raw as Record<string, unknown>;
  for (const key of Object.keys(file)) {
    if (!TOP_LEVEL_KEYS.includes(key)) throw new ConfigError(`unknown configuration key "${key}"`);
  }
  const providers = file.providers;
  if (typeof providers !== "object" || providers === null || Array.isArray(providers) || Object.keys(providers).length === 0) {
    throw new ConfigError(`"providers" must be an object naming at least one slot`);
  }
  const ctx: BackendContext = { env, log, configDir: dirname(path) };
  const slots = Object.entries(providers as Record<string, unknown>).map(([slot, value]): SlotConfig => {
    if (!SLOT_NAME.test(slot)) throw new ConfigError(`provider slot name "${slot}" must match ^[a-z][a-z0-9-]{0,31}$`);
    // The client's share is shown as `client` in a vault's provider list.
    if (slot === "client") throw new ConfigError(`provider slot name "client" is reserved for the client's share`);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(`providers.${slot} must be an object`);
    const { backend: name, ...fields } = value as Record<string, unknown>;
    const backend = typeof name === "string" ? BACKENDS.get(name) : undefined;
    if (!backend) throw new ConfigError(`providers.${slot}.backend must be one of ${[...BACKENDS.keys()].join(", ")}`);
    return { slot, backend, config: backend.parse(slot, fields, ctx) };
  });

  const defaultProvider = file.default_provider ?? slots[0]!.slot;
  if (typeof defaultProvider !== "string" || !slots.some((s) => s.slot === defaultProvider)) {
    throw new ConfigError(`"default_provider" must name a configured slot`);
  }
  const defaultSlot = slots.find((s) => s.slot === defaultProvider)!;
  if (defaultSlot.backend.forgeableWraps?.(defaultSlot.config)) {
    // The default slot's KEK is a plain vault's only protection and wraps the token signing key.
    throw new ConfigError(
      `providers.${defaultProvider} cannot be the default provider: its RSA-OAEP wraps can be made by anyone holding the public key, ` +
        `so they carry no integrity; use "key_type": "oct-HSM" (A256KW) or another backend`,
    );
  }
  const allowShared = file.allow_shared_trust_domain ?? false;
  if (typeof allowShared !== "boolean") throw new ConfigError(`"allow_shared_trust_domain" must be true or false`);
  const sharedTrustDomain = findSharedTrustDomain(slots);
  if (sharedTrustDomain && !allowShared) {
    throw new ConfigError(
      `provider slots ${sharedTrustDomain.join(" and ")} resolve to the same trust domain, so they are one party, not two; ` +
        `give each its own key, or set "allow_shared_trust_domain": true`,
    );
  }
  return {
    development: false,
    defaultProvider,
    deadlineMs: file.deadline_ms === undefined ? 3000 : positiveInteger(file.deadline_ms, `"deadline_ms"`),
    plan: file.plan === undefined ? (envPlan ?? "enterprise") : readPlan(file.plan, `"plan"`),
    reprotectMaxVersions: file.reprotect_max_versions === undefined ? 1000 : positiveInteger(file.reprotect_max_versions, `"reprotect_max_versions"`),
    sharedTrustDomain: sharedTrustDomain !== undefined,
    configDir: ctx.configDir,
    slots,
    rateLimits: parseRateLimits(file.rate_limits),
    trustProxy: readTrustProxy(file.trust_proxy),
    metricsToken: readMetricsToken(file.metrics, env),
  };
}

const CIDR = /^(.+)\/(\d{1,3})$/;

function readTrustProxy(value: unknown): TrustProxy {
  if (value === undefined) return false;
  if (typeof value === "boolean") return value;
  const valid = (entry: unknown) => {
    if (typeof entry !== "string") return false;
    const [, address = entry, prefix] = CIDR.exec(entry) ?? [];
    const family = isIP(address);
    return family !== 0 && (prefix === undefined || Number(prefix) <= (family === 4 ? 32 : 128));
  };
  if (Array.isArray(value) && value.length > 0 && value.every(valid)) return value as string[];
  throw new ConfigError(`"trust_proxy" must be true, false, or a list of proxy addresses and CIDRs (e.g. ["127.0.0.1"])`);
}

function readMetricsToken(value: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new ConfigError(`"metrics" must be an object`);
  const { bearer_token_env: name, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new ConfigError(`metrics: unknown key "${unknown}"`);
  if (name === undefined) return undefined;
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`metrics.bearer_token_env must name an environment variable`);
  const token = env[name];
  // The token itself is never repeated in a message.
  if (!token || token.length < 16) throw new ConfigError(`metrics.bearer_token_env names ${name}, which must hold a token of at least 16 characters`);
  return token;
}

function findSharedTrustDomain(slots: SlotConfig[]): [string, string] | undefined {
  const seen = new Map<string, string>();
  for (const { slot, backend, config } of slots) {
    const domain = backend.trustDomain(config);
    const other = seen.get(domain);
    if (other) return [other, slot];
    seen.set(domain, slot);
  }
  return undefined;
}

/**
 * Builds every slot's provider, each call bounded by the deployment's deadline and reported to `observe`
 * (metrics) as its callers see it. A slot named in `unusable` (its key material is gone: config/key-files.ts)
 * is not created but stands in as unavailable, for that reason.
 */
export async function buildProviders(
  deployment: Deployment,
  { observe = () => undefined, ...ctx }: Omit<BackendContext, "configDir"> & { observe?: ProviderCallObserver },
  unusable: ReadonlyMap<string, string> = new Map(),
): Promise<ProviderRegistry> {
  const providers: KeyProvider[] = [];
  try {
    for (const { slot, backend, config } of deployment.slots) {
      const reason = unusable.get(slot);
      if (reason !== undefined) {
        // Only key-file backends lose key material this way, and they are the development ones.
        providers.push(observed(unavailableProvider({ slot, backend: backend.name, development: backend.keyFile !== undefined }, reason), observe));
        continue;
      }
      const provider = await backend.create(slot, config, { ...ctx, configDir: deployment.configDir });
      providers.push(observed(withDeadline(provider, deployment.deadlineMs), observe));
    }
  } catch (error) {
    await Promise.all(providers.map((p) => p.close().catch(() => undefined)));
    throw error;
  }
  return createRegistry(providers, deployment.defaultProvider);
}
