/**
 * Reports every call of a provider (slot, operation, outcome, duration) to an observer, for metrics. A Proxy, so
 * every other property of the provider (`slot`, `backend`, `forgeableWraps`, whatever the interface gains) passes
 * through untouched, and an operation the provider lacks (`disableKek`) stays absent.
 */
import { ProviderError, type CallOptions, type KeyProvider, type ProviderErrorKind } from "./provider.js";

export type ProviderOperation = "createKek" | "wrap" | "unwrap" | "disableKek" | "health";
/** `aborted`: the caller gave up (a hedged read that had enough shares); `error`: anything not a ProviderError. */
export type ProviderOutcome = "ok" | ProviderErrorKind | "aborted" | "error";

export type ProviderCallObserver = (slot: string, operation: ProviderOperation, outcome: ProviderOutcome, seconds: number) => void;

const OPERATIONS: ReadonlySet<string> = new Set<ProviderOperation>(["createKek", "wrap", "unwrap", "disableKek", "health"]);

function outcomeOf(error: unknown, opts: CallOptions | undefined): ProviderOutcome {
  if (opts?.signal?.aborted) return "aborted";
  return error instanceof ProviderError ? error.kind : "error";
}

export function observed(provider: KeyProvider, observe: ProviderCallObserver): KeyProvider {
  return new Proxy(provider, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== "string" || !OPERATIONS.has(property) || typeof value !== "function") return value;
      const operation = property as ProviderOperation;
      return async (...args: unknown[]) => {
        // Every operation takes its CallOptions last.
        const opts = args.at(-1) as CallOptions | undefined;
        const started = performance.now();
        try {
          const result: unknown = await value.apply(target, args);
          observe(target.slot, operation, "ok", (performance.now() - started) / 1000);
          return result;
        } catch (error) {
          observe(target.slot, operation, outcomeOf(error, opts), (performance.now() - started) / 1000);
          throw error;
        }
      };
    },
  });
}
