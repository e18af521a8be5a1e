/**
 * The hedged quorum (src/envelope/quorum.ts) and the latency tracker behind it (src/envelope/latency.ts), driven by hand:
 * share sources whose answers the test gives when it chooses, and a clock that moves only when the test
 * moves it. No wall clock: every assertion is about which calls started, in what order, at which clock time.
 *
 * - the fastest slots are asked first (recent median latency); slots never measured before the others;
 * - a call still out at its own slot's p95 is hedged with the next slot, not a moment earlier; a failed call is
 *   replaced at once;
 * - once enough shares are in, the calls still out are aborted (their signal), and a late answer is wiped;
 * - every call's latency is recorded on the clock (answers and failures), an aborted call's is not;
 * - too few holders, too few answers, corrupt shares: 503 provider_unavailable or 500 stored_share_corrupt,
 *   the shares gathered so far wiped;
 * - the tracker: p50/p95 over the last 64 samples, unmeasured slots at p50 0 and p95 250 ms.
 *
 * The abort reaching a real provider's wire is tested over the cloud peers in mpc-hedging.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AppError } from "../src/errors.js";
import { LatencyTracker } from "../src/envelope/latency.js";
import { gatherQuorum, type GatheredShare, type QuorumClock, type ShareSource } from "../src/envelope/quorum.js";
import { ProviderError } from "../src/providers/provider.js";

/** A clock that moves only when `advance` is called, firing due callbacks in time order. */
class ManualClock implements QuorumClock {
  time = 0;
  private readonly timers: Array<{ at: number; fn: () => void; live: boolean }> = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  /** Moves the clock forward by `ms`, running each callback that falls due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.time = due.at;
      due.fn();
      await settle();
    }
    this.time = end;
  }
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Call {
  slot: string;
  signal: AbortSignal;
  /** Clock time the call started. */
  at: number;
  answer(value: Uint8Array): Promise<void>;
  fail(error: unknown): Promise<void>;
}

/** Share sources whose calls the test answers; `started` lists the calls in the order the quorum made them. */
function holders(slots: readonly string[], clock: ManualClock) {
  const started: Call[] = [];
  const sources: ShareSource[] = slots.map((slot) => ({
    slot,
    fetch: (signal) =>
      new Promise<Uint8Array>((resolve, reject) => {
        started.push({
          slot,
          signal,
          at: clock.now(),
          answer: async (value) => (resolve(value), settle()),
          fail: async (error) => (reject(error), settle()),
        });
      }),
  }));
  const call = (slot: string): Call => {
    const found = started.find((c) => c.slot === slot);
    assert.ok(found, `${slot} was never asked (asked: ${started.map((c) => c.slot).join(", ")})`);
    return found;
  };
  return { sources, started, call, order: () => started.map((c) => c.slot) };
}

/** A tracker holding `samples` (ms) per slot. */
function trackerWith(samples: Record<string, number[]>): LatencyTracker {
  const tracker = new LatencyTracker();
  for (const [slot, list] of Object.entries(samples)) for (const ms of list) tracker.record(slot, ms);
  return tracker;
}

const share = (byte: number) => new Uint8Array(32).fill(byte);
const down = (slot: string) => new ProviderError("unavailable", slot, "connection refused");
const corruptShare = (slot: string) => new ProviderError("integrity", slot, "the wrapped share does not open under its binding");

/** Starts a quorum and keeps its outcome, so the test can look at it while calls are still out. */
function run(sources: ShareSource[], needed: number, latency: LatencyTracker, clock: ManualClock, corrupt: string[] = []) {
  const outcome: { value?: GatheredShare[]; error?: unknown; settled: boolean } = { settled: false };
  const promise = gatherQuorum(sources, needed, { latency, clock, onCorruptShare: (slot) => corrupt.push(slot) }).then(
    (value) => Object.assign(outcome, { value, settled: true }),
    (error: unknown) => Object.assign(outcome, { error, settled: true }),
  );
  return { outcome, promise };
}

function assertAppError(error: unknown, status: number, code: string, detail?: RegExp): void {
  assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
  assert.equal(error.status, status, error.detail);
  assert.equal(error.code, code, error.detail);
  if (detail) assert.match(error.detail, detail);
}

describe("hedged quorum: order", () => {
  test("asks the slots with the lowest recent median latency first, as many as it needs", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const latency = trackerWith({ gcp: [50, 52, 48], aws: [10, 12, 11], azure: [30, 29, 31] });
    run(h.sources, 2, latency, clock);
    await settle();
    assert.deepEqual(h.order(), ["aws", "azure"], "the two fastest, fastest first; the slowest not asked");
  });

  test("a slot never measured is asked before measured ones (so that it gets measured)", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    run(h.sources, 2, trackerWith({ gcp: [5], aws: [1] }), clock);
    await settle();
    assert.deepEqual(h.order(), ["azure", "aws"]);
  });
});

describe("hedged quorum: hedging", () => {
  // gcp: median 10 ms, p95 100 ms; aws: 20 ms throughout; azure: 40 ms.
  const samples = () => ({ gcp: [...Array<number>(19).fill(10), 100], aws: Array<number>(20).fill(20), azure: [40] });

  test("a call still out at its slot's p95 is hedged with the next slot at that moment, not earlier", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const latency = trackerWith(samples());
    assert.equal(latency.p95("gcp"), 100);
    const { outcome, promise } = run(h.sources, 2, latency, clock);
    await settle();
    assert.deepEqual(h.order(), ["gcp", "aws"]);
    await clock.advance(19);
    await h.call("aws").answer(share(2)); // within its p95: no hedge for aws
    await clock.advance(80); // t = 99: gcp is slow, but within its own p95
    assert.deepEqual(h.order(), ["gcp", "aws"], "hedged before gcp's p95");
    await clock.advance(1); // t = 100
    assert.deepEqual(h.order(), ["gcp", "aws", "azure"], "not hedged at gcp's p95");
    assert.equal(h.call("azure").at, 100);
    assert.equal(outcome.settled, false);
    await h.call("azure").answer(share(3));
    await promise;
    assert.deepEqual(outcome.value!.map((s) => s.slot).sort(), ["aws", "azure"]);
  });

  test("each slot is hedged after its own p95: a fast slot's call is hedged sooner", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    run(h.sources, 2, trackerWith(samples()), clock);
    await settle();
    await clock.advance(19);
    assert.deepEqual(h.order(), ["gcp", "aws"]);
    await clock.advance(1); // t = 20: aws's p95, far below gcp's
    assert.deepEqual(h.order(), ["gcp", "aws", "azure"]);
  });

  test("an unmeasured slot is hedged after 250 ms", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    run(h.sources, 1, new LatencyTracker(), clock);
    await settle();
    await clock.advance(249);
    assert.deepEqual(h.order(), ["gcp"]);
    await clock.advance(1);
    assert.deepEqual(h.order(), ["gcp", "aws"]);
  });

  test("a failed call is replaced by the next slot at once, without waiting for a hedge", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const { outcome, promise } = run(h.sources, 2, trackerWith(samples()), clock);
    await settle();
    await h.call("gcp").fail(down("gcp"));
    assert.deepEqual(h.order(), ["gcp", "aws", "azure"]);
    assert.equal(h.call("azure").at, 0);
    await h.call("aws").answer(share(2));
    await h.call("azure").answer(share(3));
    await promise;
    assert.deepEqual(outcome.value!.map((s) => s.slot), ["aws", "azure"]);
  });

  test("nothing more is started once the quorum is complete (a hedge falling due later does nothing)", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const { promise } = run(h.sources, 2, trackerWith(samples()), clock);
    await settle();
    await h.call("gcp").answer(share(1));
    await h.call("aws").answer(share(2));
    await promise;
    await clock.advance(1000);
    assert.deepEqual(h.order(), ["gcp", "aws"]);
  });
});

describe("hedged quorum: leftover calls", () => {
  test("once enough shares are in, the calls still out are aborted; their late answers are wiped", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const { outcome, promise } = run(h.sources, 2, trackerWith({ gcp: [10], aws: [20], azure: [30] }), clock);
    await settle();
    await clock.advance(20); // gcp's hedge: azure asked too
    assert.deepEqual(h.order(), ["gcp", "aws", "azure"]);
    await h.call("aws").answer(share(2));
    assert.equal(h.call("gcp").signal.aborted, false, "aborted before the quorum was complete");
    await h.call("azure").answer(share(3));
    await promise;
    assert.deepEqual(outcome.value!.map((s) => [s.slot, s.value[0]]), [["aws", 2], ["azure", 3]]);
    assert.equal(h.call("gcp").signal.aborted, true, "the call still out was not aborted");
    assert.equal(h.call("aws").signal.aborted, false);
    const late = share(1);
    await h.call("gcp").answer(late);
    assert.ok(late.every((b) => b === 0), "a share that arrived after the quorum was complete is not wiped");
  });
});

describe("hedged quorum: latencies", () => {
  test("every answer's and every failure's latency is recorded on the clock; an aborted call's is not", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const latency = new LatencyTracker();
    const { promise } = run(h.sources, 2, latency, clock);
    await settle();
    assert.deepEqual(h.order(), ["gcp", "aws"]);
    await clock.advance(30);
    await h.call("gcp").fail(down("gcp")); // azure asked at t = 30
    await clock.advance(40);
    await h.call("aws").answer(share(2)); // t = 70
    await clock.advance(15);
    await h.call("azure").answer(share(3)); // t = 85: azure took 55
    await promise;
    assert.equal(latency.p50("gcp"), 30);
    assert.equal(latency.p50("aws"), 70);
    assert.equal(latency.p50("azure"), 55);

    const next = holders(["gcp", "aws", "azure"], clock);
    const tracker = trackerWith({ gcp: [1], aws: [2], azure: [3] });
    const second = run(next.sources, 1, tracker, clock);
    await settle();
    await clock.advance(1); // gcp's hedge
    await next.call("aws").answer(share(2));
    await second.promise;
    assert.equal(next.call("gcp").signal.aborted, true);
    await clock.advance(500);
    await next.call("gcp").fail(new ProviderError("unavailable", "gcp", "call aborted"));
    assert.equal(tracker.p50("gcp"), 1, "the aborted call's time was recorded as gcp's latency");
  });

  test("the tracker: median and p95 of the last 64 samples; unmeasured slots at 0 and 250 ms", () => {
    const tracker = new LatencyTracker();
    assert.equal(tracker.p50("gcp"), 0);
    assert.equal(tracker.p95("gcp"), 250);
    for (let ms = 1; ms <= 20; ms++) tracker.record("gcp", ms);
    assert.equal(tracker.p50("gcp"), 11);
    assert.equal(tracker.p95("gcp"), 20);
    assert.equal(tracker.p95("aws"), 250, "one slot's samples are not another's");
    // 64 samples of 1000 push every earlier one out of the window.
    for (let i = 0; i < 64; i++) tracker.record("gcp", 1000);
    assert.equal(tracker.p50("gcp"), 1000);
    tracker.record("gcp", 5);
    assert.equal(tracker.p50("gcp"), 1000);
    for (let i = 0; i < 40; i++) tracker.record("gcp", 5);
    assert.equal(tracker.p50("gcp"), 5, "41 of the last 64 samples are 5");
    assert.equal(tracker.p95("gcp"), 1000);
  });
});

describe("hedged quorum: failures", () => {
  test("fewer holders than needed: refused at once with 503 provider_unavailable, nobody asked", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp"], clock);
    const { outcome, promise } = run(h.sources, 2, new LatencyTracker(), clock);
    await promise;
    assertAppError(outcome.error, 503, "provider_unavailable");
    assert.deepEqual(h.order(), []);
  });

  test("too many slots down: 503 provider_unavailable naming them; the share already gathered is wiped", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const { outcome, promise } = run(h.sources, 2, new LatencyTracker(), clock);
    await settle();
    const gathered = share(1);
    await h.call("gcp").answer(gathered);
    await h.call("aws").fail(down("aws"));
    await h.call("azure").fail(down("azure"));
    await promise;
    assertAppError(outcome.error, 503, "provider_unavailable", /aws, azure/);
    assert.ok(gathered.every((b) => b === 0), "the gathered share was not wiped");
  });

  test("the last answer of all may be a success that still leaves too few: refused, not left hanging", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws"], clock);
    const { outcome, promise } = run(h.sources, 2, new LatencyTracker(), clock);
    await settle();
    await h.call("gcp").fail(down("gcp"));
    const last = share(2);
    await h.call("aws").answer(last);
    await promise;
    assertAppError(outcome.error, 503, "provider_unavailable", /gcp/);
    assert.ok(last.every((b) => b === 0));
  });

  test("corrupt stored shares are reported per slot; only corrupt ones: 500 stored_share_corrupt; with an outage: 503", async () => {
    const clock = new ManualClock();
    const h = holders(["gcp", "aws", "azure"], clock);
    const corrupt: string[] = [];
    const first = run(h.sources, 2, new LatencyTracker(), clock, corrupt);
    await settle();
    await h.call("gcp").fail(corruptShare("gcp"));
    await h.call("aws").fail(corruptShare("aws"));
    await h.call("azure").answer(share(3));
    await first.promise;
    assertAppError(first.outcome.error, 500, "stored_share_corrupt", /gcp, aws/);
    assert.deepEqual(corrupt, ["gcp", "aws"]);

    const again = holders(["gcp", "aws", "azure"], clock);
    const second = run(again.sources, 2, new LatencyTracker(), clock, corrupt);
    await settle();
    await again.call("gcp").fail(corruptShare("gcp"));
    await again.call("aws").fail(down("aws"));
    await again.call("azure").answer(share(3));
    await second.promise;
    assertAppError(second.outcome.error, 503, "provider_unavailable", /aws, gcp/);
  });
});
