/**
 * Gives every call of a provider a deadline: the caller's AbortSignal, if any, and a timeout combined. A
 * backend that honours the signal ends a hanging call at the deadline. `deadlineSignal` makes the timeout's
 * signal (tests pass one they abort themselves, so that a deadline falls due when the test says).
 */
import { ProviderError, type CallOptions, type KeyProvider } from "./provider.js";

export function withDeadline(provider: KeyProvider, deadlineMs: number, deadlineSignal = (ms: number) => AbortSignal.timeout(ms)): KeyProvider {
  const signalFor = (opts?: CallOptions) => {
    const timeout = deadlineSignal(deadlineMs);
    return opts?.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  };
  async function bounded<T>(opts: CallOptions | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = signalFor(opts);
    if (signal.aborted) throw new ProviderError("unavailable", provider.slot, "call aborted before it started");
    // Race the call against the signal, so a backend that ignores the signal still cannot stall a request.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new ProviderError("unavailable", provider.slot, `call exceeded its deadline of ${deadlineMs} ms or was aborted`));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    const pending = call(signal);
    // A result that arrives after the deadline is dropped; unwrapped key material in it is wiped.
    pending.then((late) => signal.aborted && late instanceof Uint8Array && late.fill(0), () => undefined);
    try {
      return await Promise.race([pending, aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
  return {
    slot: provider.slot,
    backend: provider.backend,
    development: provider.development,
    forgeableWraps: provider.forgeableWraps,
    createKek: (vaultId, opts) => bounded(opts, (signal) => provider.createKek(vaultId, { signal })),
    wrap: (kekId, plaintext, aad, opts) => bounded(opts, (signal) => provider.wrap(kekId, plaintext, aad, { signal })),
    unwrap: (kekId, wrapped, aad, opts) => bounded(opts, (signal) => provider.unwrap(kekId, wrapped, aad, { signal })),
    ...(provider.disableKek ? { disableKek: (kekId, opts) => bounded(opts, (signal) => provider.disableKek!(kekId, { signal })) } : {}),
    health: (opts) => bounded(opts, (signal) => provider.health({ signal })),
    close: () => provider.close(),
  };
}
