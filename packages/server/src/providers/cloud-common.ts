/**
 * What the cloud KMS backends (AWS KMS, GCP Cloud KMS, Azure Key Vault) share: the KEK strategy and retry
 * fields of their configuration, the bounded retry loop around each SDK call, classification of transport
 * failures, and error messages that never carry key material or tokens.
 */
import { createHash, randomBytes } from "node:crypto";
import { ConfigError, type fieldReader } from "./backend.js";
import { ProviderError, type CallOptions, type ProviderErrorKind, type ProviderHealth } from "./provider.js";
import { withRetries } from "./retry.js";
import { isLoopback } from "../config/env.js";

export type KekStrategy = "per-vault" | "shared";

/** `per-vault` (the default: every vault gets its own KEK) or `shared` (one configured key for every vault). */
export function readKekStrategy(
  slot: string,
  fields: Record<string, unknown>,
  read: ReturnType<typeof fieldReader>,
  keyField: string,
): { strategy: KekStrategy; sharedKey: string | undefined } {
  const strategy = read.optionalEnum("kek_strategy", ["per-vault", "shared"] as const) ?? "per-vault";
  const sharedKey = read.optionalString(keyField);
  if (strategy === "shared" && sharedKey === undefined) {
    throw new ConfigError(`providers.${slot}.${keyField} is required with "kek_strategy": "shared"`);
  }
  if (strategy === "per-vault" && fields[keyField] !== undefined) {
    throw new ConfigError(`providers.${slot}.${keyField} is only allowed with "kek_strategy": "shared" (per-vault KEKs are created per vault)`);
  }
  return { strategy, sharedKey };
}

export const DEFAULT_MAX_RETRIES = 2;
export const MAX_MAX_RETRIES = 10;
/** Retries wait a random time in [0, base·2^attempt): 0–100 ms, then 0–200 ms. */
export const DEFAULT_RETRY_BASE_MS = 100;

export function readMaxRetries(slot: string, fields: Record<string, unknown>): number {
  const value = fields.max_retries;
  if (value === undefined) return DEFAULT_MAX_RETRIES;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > MAX_MAX_RETRIES) {
    throw new ConfigError(`providers.${slot}.max_retries must be an integer from 0 to ${MAX_MAX_RETRIES}`);
  }
  return value as number;
}

/** Reads the variable a `…_env` field names; start-up refuses when it is unset (the value is never shown). */
export function requireEnv(slot: string, key: string, name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new ConfigError(`providers.${slot}.${key} names the environment variable ${name}, which is not set`);
  }
  return value;
}

/** Plain http is for loopback peers only: anywhere else, keys and tokens would cross the network in clear. */
export function checkUrlTransport(slot: string, key: string, url: URL): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && isLoopback(url.hostname)) return;
  throw new ConfigError(`providers.${slot}.${key} must be an https:// URL (plain http is allowed on loopback only)`);
}

export function parseUrl(slot: string, key: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(`providers.${slot}.${key} must be a URL`);
  }
}

/**
 * A fresh cloud key name for one KEK of a vault: the vault id (for people reading the provider's console) and a
 * random suffix, within the `[A-Za-z0-9-]` alphabet and the 63 characters every provider accepts. Every KEK is
 * its own key: a vault's next KEK (enabling MPC, a rotation) never shares a name with its former one, so
 * disabling the former touches exactly that KEK.
 */
export function newKekKeyName(vaultId: string): string {
  const vault = /^[A-Za-z0-9-]{1,40}$/.test(vaultId) ? vaultId : createHash("sha256").update(vaultId, "utf8").digest("hex").slice(0, 40);
  return `sv-${vault}-${randomBytes(6).toString("hex")}`;
}

/** What an adapter decided about one failure. */
export interface Classified {
  kind: ProviderErrorKind;
  /** Transient: worth another bounded, jittered attempt. */
  retryable: boolean;
  /** The service certainly did not act (throttled, connection refused): safe to retry a non-idempotent call. */
  notExecuted: boolean;
  /** Short, secret-free description (error name / code / status). */
  what: string;
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "REQUEST_SEND_ERROR",
]);

/** The error and its causes, outermost first (bounded, in case of a cycle). */
export function errorChain(error: unknown): Array<Record<string, unknown>> {
  const chain: Array<Record<string, unknown>> = [];
  let current: unknown = error;
  while (current !== null && typeof current === "object" && chain.length < 6) {
    chain.push(current as Record<string, unknown>);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** The transport-level code (ECONNREFUSED, …) anywhere in the error's cause chain. */
export function networkCode(error: unknown): string | undefined {
  for (const link of errorChain(error)) {
    const code = link.code ?? link.errno;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  }
  for (const link of errorChain(error)) {
    if (link.name === "TypeError" && link.message === "fetch failed") return "fetch failed";
    if (typeof link.message === "string" && /socket hang up|other side closed|ECONNREFUSED|ECONNRESET/.test(link.message)) return "connection lost";
  }
  return undefined;
}

export function isAbortError(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  return errorChain(error).some((link) => link.name === "AbortError" || link.code === "ABORT_ERR");
}

/** Redacts what could be a credential from a service's message, and bounds its length. */
export function safeMessage(message: unknown): string {
  if (typeof message !== "string") return "";
  return message
    .replace(/\b(bearer|basic)\s+\S+/gi, "$1 [redacted]")
    .replace(/\b(token|signature|credential|secret|password|key)=\S+/gi, "$1=[redacted]")
    .replace(/[A-Za-z0-9+/_=.]{40,}/g, "[redacted]")
    .slice(0, 200);
}

/**
 * One SDK call with our bounded, jittered retries (the SDKs' own retries are off) and the failure mapped to a
 * ProviderError. `classify` sees the raw SDK error.
 */
export async function callWithRetries<T>(
  slot: string,
  operation: string,
  opts: CallOptions | undefined,
  retry: { maxRetries: number; baseDelayMs: number; onlyNotExecuted?: boolean },
  classify: (error: unknown) => Classified,
  call: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  const signal = opts?.signal;
  if (signal?.aborted) throw new ProviderError("unavailable", slot, `${operation}: call aborted before it started`);
  try {
    return await withRetries(() => call(signal), {
      maxRetries: retry.maxRetries,
      baseDelayMs: retry.baseDelayMs,
      ...(signal ? { signal } : {}),
      isRetryable: (error) => {
        if (isAbortError(error, signal)) return false;
        const classified = classify(error);
        return classified.retryable && (!retry.onlyNotExecuted || classified.notExecuted);
      },
    });
  } catch (error) {
    throw toProviderError(slot, operation, error, signal, classify);
  }
}

export function toProviderError(
  slot: string,
  operation: string,
  error: unknown,
  signal: AbortSignal | undefined,
  classify: (error: unknown) => Classified,
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (isAbortError(error, signal)) return new ProviderError("unavailable", slot, `${operation}: call aborted (deadline or caller)`);
  const { kind, what } = classify(error);
  return new ProviderError(kind, slot, `${operation} failed: ${what}`);
}

/**
 * Settles with the call, or rejects as soon as the signal aborts (for SDK calls that cannot take a signal);
 * `onAbort` cancels the call where the SDK allows it; a result that arrives after the abort goes to `onLate`
 * (to wipe key material in it).
 */
export function raceSignal<T>(call: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void, onLate?: (value: T) => void): Promise<T> {
  if (!signal) return call;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      try {
        onAbort?.();
      } catch {
        // cancelling is best effort
      }
      const error = new Error("call aborted");
      error.name = "AbortError";
      reject(error);
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    call.then(
      (value) => {
        signal.removeEventListener("abort", abort);
        if (signal.aborted) return onLate?.(value);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort);
        reject(error);
      },
    );
  });
}

/** Runs a health probe: ok with its latency, or unavailable with the failure's kind (never an exception). */
export async function probeHealth(
  slot: string,
  opts: CallOptions | undefined,
  classify: (error: unknown) => Classified,
  probe: (signal: AbortSignal | undefined) => Promise<string | undefined>,
): Promise<ProviderHealth> {
  const started = performance.now();
  const latency = () => Math.max(0, Math.round((performance.now() - started) * 10) / 10);
  try {
    const degraded = await probe(opts?.signal);
    return degraded ? { status: "degraded", latencyMs: latency(), detail: degraded } : { status: "ok", latencyMs: latency() };
  } catch (error) {
    const mapped = toProviderError(slot, "health check", error, opts?.signal, classify);
    return { status: "unavailable", latencyMs: latency(), detail: `${mapped.kind}: ${mapped.message}` };
  }
}

/** Remembers a bounded set of recently used entries (KEK ids, clients) without growing forever. */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
}
