/**
 * Gathers `needed` shares from provider slots: asks the fastest slots first, asks one more when a call fails
 * or runs past its slot's hedge delay (recent p95), and aborts what is still outstanding once enough are in.
 * A down or hanging slot therefore neither fails nor stalls a read while enough others answer.
 */
import { AppError, unavailable } from "../errors.js";
import { ProviderError } from "../providers/provider.js";
import type { LatencyTracker } from "./latency.js";

export interface ShareSource {
  slot: string;
  fetch(signal: AbortSignal): Promise<Uint8Array>;
}

export interface GatheredShare {
  slot: string;
  value: Uint8Array;
}

/** Time as the quorum sees it: the process clock, or one a test moves by hand. */
export interface QuorumClock {
  now(): number;
  /** Calls `fn` after `ms`; answers a function that cancels the call. */
  after(ms: number, fn: () => void): () => void;
}

const processClock: QuorumClock = {
  now: () => performance.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface QuorumOptions {
  latency: LatencyTracker;
  /** Called for a slot whose stored share failed its integrity check (it then counts as unavailable). */
  onCorruptShare(slot: string): void;
  clock?: QuorumClock;
}

export function gatherQuorum(sources: readonly ShareSource[], needed: number, opts: QuorumOptions): Promise<GatheredShare[]> {
  const clock = opts.clock ?? processClock;
  const queue = [...sources].sort((a, b) => opts.latency.p50(a.slot) - opts.latency.p50(b.slot));
  const gathered: GatheredShare[] = [];
  const failures: Array<{ slot: string; corrupt: boolean }> = [];
  const inFlight = new Map<string, AbortController>();
  let settled = false;

  return new Promise<GatheredShare[]>((resolve, reject) => {
    const finishIfStuck = () => {
      if (settled || inFlight.size > 0 || queue.length > 0) return;
      settled = true;
      for (const share of gathered) share.value.fill(0);
      const corrupt = failures.filter((f) => f.corrupt).map((f) => f.slot);
      const down = failures.filter((f) => !f.corrupt).map((f) => f.slot);
      if (corrupt.length > 0 && down.length === 0) {
        reject(new AppError(500, "stored_share_corrupt", `the stored share of provider slot ${corrupt.join(", ")} failed its integrity check`));
      } else {
        reject(unavailable("provider_unavailable", `too few key providers answered (unavailable: ${[...down, ...corrupt].join(", ")})`));
      }
    };

    const startNext = () => {
      const source = queue.shift();
      if (!source) return finishIfStuck();
      const controller = new AbortController();
      inFlight.set(source.slot, controller);
      const started = clock.now();
      const cancelHedge = clock.after(opts.latency.p95(source.slot), () => {
        if (settled || queue.length === 0) return;
        opts.latency.hedged("slow");
        startNext();
      });
      source.fetch(controller.signal).then(
        (value) => {
          cancelHedge();
          inFlight.delete(source.slot);
          opts.latency.record(source.slot, clock.now() - started);
          if (settled) return value.fill(0); // not needed any more: wipe
          gathered.push({ slot: source.slot, value });
          if (gathered.length === needed) {
            settled = true;
            for (const other of inFlight.values()) other.abort();
            resolve(gathered);
          } else {
            // The last answer of all may be a success that still leaves too few.
            finishIfStuck();
          }
        },
        (error: unknown) => {
          cancelHedge();
          inFlight.delete(source.slot);
          if (settled) return;
          opts.latency.record(source.slot, clock.now() - started);
          const corrupt = error instanceof ProviderError && error.kind === "integrity";
          if (corrupt) opts.onCorruptShare(source.slot);
          failures.push({ slot: source.slot, corrupt });
          if (queue.length > 0) opts.latency.hedged("failure");
          startNext();
          finishIfStuck();
        },
      );
    };

    if (queue.length < needed) {
      settled = true;
      return reject(unavailable("provider_unavailable", "too few key providers hold a share of this version"));
    }
    for (let i = 0; i < needed; i++) startNext();
  });
}
