/**
 * Recent call latencies per provider slot, to ask the fastest slots first and to hedge a slow call with
 * another slot after that slot's recent p95. Local heuristics only: instances may disagree harmlessly. The
 * quorum also reports its hedges here (`hedged`), the one object every read shares, for metrics.
 */
const WINDOW = 64;
const UNKNOWN_P95_MS = 250;

export class LatencyTracker {
  private readonly samples = new Map<string, number[]>();
  /** Each slot's samples sorted, kept until its next sample: every read asks for quantiles several times. */
  private readonly sorted = new Map<string, number[]>();

  /** `onHedge`: told each time the quorum asks one more slot because one was slow or failed. */
  constructor(private readonly onHedge: (reason: "slow" | "failure") => void = () => undefined) {}

  hedged(reason: "slow" | "failure"): void {
    this.onHedge(reason);
  }

  record(slot: string, ms: number): void {
    const list = this.samples.get(slot) ?? [];
    list.push(ms);
    if (list.length > WINDOW) list.shift();
    this.samples.set(slot, list);
    this.sorted.delete(slot);
  }

  private quantile(slot: string, q: number): number | undefined {
    let sorted = this.sorted.get(slot);
    if (!sorted) {
      const list = this.samples.get(slot);
      if (!list || list.length === 0) return undefined;
      sorted = [...list].sort((a, b) => a - b);
      this.sorted.set(slot, sorted);
    }
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }

  /** Median latency; slots never measured sort first (so they get measured). */
  p50(slot: string): number {
    return this.quantile(slot, 0.5) ?? 0;
  }

  p95(slot: string): number {
    return this.quantile(slot, 0.95) ?? UNKNOWN_P95_MS;
  }
}
