/**
 * Bounded retries with full jitter for transient provider failures (throttling, 5xx, dropped connections).
 * Each retry waits a random time in [0, base·2^attempt), so a fleet of servers does not retry in lockstep;
 * the wait ends early when the call's signal aborts.
 */
export interface RetryOptions {
  maxRetries: number;
  baseDelayMs: number;
  signal?: AbortSignal;
  isRetryable(error: unknown): boolean;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export async function withRetries<T>(call: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= opts.maxRetries || !opts.isRetryable(error) || opts.signal?.aborted) throw error;
      await sleep(Math.random() * opts.baseDelayMs * 2 ** attempt, opts.signal);
    }
  }
}
