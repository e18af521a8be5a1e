/**
 * The audit chain's pure modules (audit/chain-hash.ts, audit/chain-verify.ts), with no database:
 *
 * - the hash is HMAC-SHA256 under the chain key of the documented canonical encoding: the fields by name, the
 *   time in epoch milliseconds, `details` in RFC 8785 form, absent (not empty) nulls, the previous hash;
 *   changing any one field, the previous hash or the key changes it; `details` key order does not;
 * - property tests over random chains (with events from before the chain at their start): an untouched chain
 *   verifies, every event counted; any single edit of any field, deletion, insertion (forged or replayed) or
 *   swap of chained events breaks it exactly at the first affected event (the newest event's deletion at the
 *   event the head still names); a window that starts mid-chain verifies against its anchor, and is broken at
 *   the first affected event inside it;
 * - events from before the chain are reported as unchained, not as a break; a hashless event after the chain
 *   began, a hashed one among the older events, a head that names no stored event, and a row with no place in
 *   any chain are breaks.
 */
import assert from "node:assert/strict";
import { createHmac, createSecretKey, randomUUID, type KeyObject } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { encodeContext } from "@shardvault/crypto";
import { chainHash, type StoredAuditEvent } from "../src/audit/chain-hash.js";
import { verifyChainWindow, type ChainHead, type ChainWindow } from "../src/audit/chain-verify.js";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

interface Chain {
  key: KeyObject;
  events: StoredAuditEvent[];
  head: ChainHead;
  /** How many leading events are from before the chain. */
  before: number;
}

const detailsArb = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })),
  { maxKeys: 4 },
);

const eventBodyArb = fc.record({
  action: fc.constantFrom("secret.read", "secret.write", "vault.create", "agent.update"),
  actor_type: fc.constantFrom("user", "agent"),
  resource_type: fc.constantFrom("secret", "vault", "agent"),
  resource_id: fc.string({ minLength: 1, maxLength: 12 }),
  details: detailsArb,
  ip_address: fc.option(fc.constantFrom("127.0.0.1", "::1", "10.0.0.7", ""), { nil: null }),
  gap: fc.integer({ min: 0, max: 5 }),
});

type EventBody = typeof eventBodyArb extends fc.Arbitrary<infer T> ? T : never;

/** Builds a chain the way audit/audit.ts appends: numbers, links, non-decreasing times, hashes. */
function buildChain(key: KeyObject, before: number, bodies: EventBody[]): Chain {
  const orgId = randomUUID();
  const actor = randomUUID();
  let time = T0;
  let last: { id: string; hash: string } | null = null;
  const events = bodies.map((body, i): StoredAuditEvent => {
    time += body.gap;
    const { gap: _gap, ...fields } = body;
    const event = { ...fields, id: randomUUID(), org_id: orgId, actor_id: actor, chain_seq: i + 1, created_at: new Date(time).toISOString() };
    if (i < before) return { ...event, prev_event_id: null, integrity_hash: null };
    const prevHash: string | null = last?.hash ?? null;
    const linked = { ...event, prev_event_id: last?.id ?? null };
    const hash = chainHash(key, linked, prevHash);
    last = { id: linked.id, hash };
    return { ...linked, integrity_hash: hash };
  });
  const newest = last as { id: string; hash: string } | null;
  return { key, events, before, head: { chain_start_seq: before + 1, last_event_id: newest?.id ?? null, last_hash: newest?.hash ?? null } };
}

const chainArb = fc
  .record({
    key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    before: fc.integer({ min: 0, max: 3 }),
    chained: fc.array(eventBodyArb, { minLength: 1, maxLength: 10 }),
  })
  .chain(({ key, before, chained }) =>
    fc.array(eventBodyArb, { minLength: before, maxLength: before }).map((older) => buildChain(createSecretKey(key), before, [...older, ...chained])),
  );

const whole = (chain: Chain, events = chain.events): ChainWindow => ({ head: chain.head, reachesHead: true, anchor: null, events, unsequenced: [] });

test("the hash is HMAC-SHA256 of the documented encoding: every field, epoch-ms time, RFC 8785 details, absent nulls, previous hash", () => {
  const key = createSecretKey(Buffer.alloc(32, 7));
  const event = {
    id: "6f1c1f39-8a0e-4f55-9d3c-2f1f58a0f0a1",
    org_id: "0a4e8f0b-33d4-4c1e-a7a3-54f3c7d9e101",
    chain_seq: 12,
    action: "secret.read",
    actor_id: "9b2d3c4e-5f60-4718-829a-b0c1d2e3f405",
    actor_type: "user",
    resource_type: "secret",
    resource_id: "r-1",
    details: { vault_id: "v", path: "a/b", version: 2, nested: { z: 1, a: [true, null] } },
    ip_address: null,
    created_at: "2026-03-04T05:06:07.089Z",
    prev_event_id: "1d0f6e0e-2b1c-4d5a-8e9f-a0b1c2d3e4f5",
  };
  const documented = {
    purpose: "audit-event",
    format: 1,
    id: event.id,
    org_id: event.org_id,
    chain_seq: 12,
    action: "secret.read",
    actor_id: event.actor_id,
    actor_type: "user",
    resource_type: "secret",
    resource_id: "r-1",
    details: '{"nested":{"a":[true,null],"z":1},"path":"a/b","vault_id":"v","version":2}',
    created_at: Date.parse("2026-03-04T05:06:07.089Z"),
  };
  const hmac = (context: Record<string, string | number>) => createHmac("sha256", key).update(encodeContext(context)).digest("hex");
  const prevHash = "ab".repeat(32);
  assert.equal(chainHash(key, event, prevHash), hmac({ ...documented, prev_event_id: event.prev_event_id, prev_hash: prevHash }));
  // The chain's first event has no link and no previous hash (absent fields); an address is present.
  assert.equal(chainHash(key, { ...event, prev_event_id: null, ip_address: "::1" }, null), hmac({ ...documented, ip_address: "::1" }));
});

test("changing any field, the previous hash or the key changes the hash; details key order does not", () => {
  fc.assert(
    fc.property(chainArb, fc.nat(), fc.string({ maxLength: 6 }), (chain, pick, salt) => {
      const event = chain.events[chain.events.length - 1]!;
      const fields = { ...event, chain_seq: event.chain_seq! };
      const prev = "cd".repeat(32);
      const base = chainHash(chain.key, fields, prev);
      const reordered = Object.fromEntries(Object.entries(fields.details).reverse());
      assert.equal(chainHash(chain.key, { ...fields, details: reordered }, prev), base);
      const variants = [
        { ...fields, id: randomUUID() },
        { ...fields, org_id: randomUUID() },
        { ...fields, chain_seq: fields.chain_seq + 1 },
        { ...fields, action: `${fields.action}x` },
        { ...fields, actor_id: randomUUID() },
        { ...fields, actor_type: fields.actor_type === "user" ? "agent" : "user" },
        { ...fields, resource_type: `${fields.resource_type}x` },
        { ...fields, resource_id: `${fields.resource_id}${salt}x` },
        { ...fields, details: { ...fields.details, [`k${salt}`]: "added" } },
        { ...fields, ip_address: fields.ip_address === null ? "" : null },
        { ...fields, created_at: new Date(Date.parse(fields.created_at) + 1).toISOString() },
        { ...fields, prev_event_id: fields.prev_event_id === null ? randomUUID() : null },
      ];
      const changed = variants[pick % variants.length]!;
      assert.notEqual(chainHash(chain.key, changed, prev), base);
      assert.notEqual(chainHash(chain.key, fields, null), base);
      assert.notEqual(chainHash(chain.key, fields, "ce".repeat(32)), base);
      assert.notEqual(chainHash(createSecretKey(Buffer.alloc(32, 1)), fields, prev), base);
    }),
    { numRuns: 300 },
  );
});

test("an untouched chain verifies: every chained event verified, older ones unchained, the head reported", () => {
  fc.assert(
    fc.property(chainArb, (chain) => {
      const verdict = verifyChainWindow(chain.key, whole(chain));
      assert.equal(verdict.chain_valid, true);
      assert.equal(verdict.broken_at_event_id, null);
      assert.equal(verdict.events_checked, chain.events.length);
      assert.equal(verdict.events_unchained, chain.before);
      assert.equal(verdict.events_verified, chain.events.length - chain.before);
      const newest = chain.events.at(-1)!;
      assert.deepEqual(verdict.head, { event_id: newest.id, integrity_hash: newest.integrity_hash });
    }),
    { numRuns: 200 },
  );
});

type Tamper = { kind: "edit"; at: number; field: keyof StoredAuditEvent } | { kind: "delete"; at: number } | { kind: "insert"; at: number; replay: boolean } | { kind: "swap"; at: number; with: number };

const EDITABLE: Array<keyof StoredAuditEvent> = [
  "id",
  "org_id",
  "chain_seq",
  "action",
  "actor_id",
  "actor_type",
  "resource_type",
  "resource_id",
  "details",
  "ip_address",
  "created_at",
  "prev_event_id",
  "integrity_hash",
];

function editedValue(event: StoredAuditEvent, field: keyof StoredAuditEvent, salt: number): unknown {
  switch (field) {
    case "id":
    case "org_id":
    case "actor_id":
      return randomUUID();
    case "chain_seq":
      return salt % 2 === 0 ? event.chain_seq! + 1000 : 0;
    case "details":
      return { ...event.details, tampered: salt };
    case "ip_address":
      return event.ip_address === null ? "203.0.113.9" : salt % 2 === 0 ? null : `${event.ip_address}9`;
    case "created_at":
      return new Date(Date.parse(event.created_at) + (salt % 2 === 0 ? 1 : -60_000)).toISOString();
    case "prev_event_id":
      return event.prev_event_id === null || salt % 2 === 0 ? randomUUID() : null;
    case "integrity_hash":
      return salt % 3 === 0 ? null : salt % 3 === 1 ? "0".repeat(64) : event.integrity_hash!.replace(/^./, (c) => (c === "a" ? "b" : "a"));
    default:
      return `${String(event[field])}~`;
  }
}

/**
 * Applies one tamper to the chained part of `chain` (older events are not protected, so not tampered with) and
 * answers the stored rows in chain order, the id of the first affected event and its position (-1: deleted).
 */
function tamper(chain: Chain, t: Tamper, salt: number): { events: StoredAuditEvent[]; firstAffected: string; affectedAt: number } {
  const events = chain.events.map((e) => ({ ...e }));
  switch (t.kind) {
    case "edit": {
      const edited = { ...events[t.at]!, [t.field]: editedValue(events[t.at]!, t.field, salt) } as StoredAuditEvent;
      events[t.at] = edited;
      return { events, firstAffected: edited.id, affectedAt: t.at };
    }
    case "delete": {
      const [deleted] = events.splice(t.at, 1);
      // The newest event deleted: nothing follows it, but the head still names it.
      return { events, firstAffected: events[t.at]?.id ?? deleted!.id, affectedAt: t.at < events.length ? t.at : -1 };
    }
    case "insert": {
      const previous = events[t.at - 1]!;
      const chained = events.length - chain.before;
      const forged: StoredAuditEvent = t.replay
        ? { ...events[chain.before + (salt % chained)]! } // a copy of a chained event, hash and all
        : { ...previous, id: randomUUID(), prev_event_id: previous.id, chain_seq: previous.chain_seq! + 1, integrity_hash: "f".repeat(64) };
      events.splice(t.at, 0, forged);
      return { events, firstAffected: forged.id, affectedAt: t.at };
    }
    case "swap": {
      [events[t.at], events[t.with]] = [events[t.with]!, events[t.at]!];
      return { events, firstAffected: events[t.at]!.id, affectedAt: t.at };
    }
  }
}

const tamperedArb = chainArb.chain((chain) => {
  const chained = fc.integer({ min: chain.before, max: chain.events.length - 1 });
  const tampers: Array<fc.Arbitrary<Tamper>> = [
    fc.record({ kind: fc.constant("edit" as const), at: chained, field: fc.constantFrom(...EDITABLE) }),
    fc.record({ kind: fc.constant("delete" as const), at: chained }),
    // Inserted anywhere after the first chained event, the end included.
    fc.record({ kind: fc.constant("insert" as const), at: fc.integer({ min: Math.max(1, chain.before), max: chain.events.length }), replay: fc.boolean() }),
  ];
  if (chain.events.length - chain.before >= 2) {
    tampers.push(
      fc
        .tuple(chained, chained)
        .filter(([a, b]) => a !== b)
        .map(([a, b]): Tamper => ({ kind: "swap", at: Math.min(a, b), with: Math.max(a, b) })),
    );
  }
  return fc.tuple(fc.constant(chain), fc.oneof(...tampers), fc.nat());
});

test("any single edit, deletion, insertion or swap breaks the chain exactly at the first affected event", () => {
  fc.assert(
    fc.property(tamperedArb, ([chain, t, salt]) => {
      const { events, firstAffected } = tamper(chain, t, salt);
      const verdict = verifyChainWindow(chain.key, whole(chain, events));
      assert.equal(verdict.chain_valid, false, JSON.stringify(t));
      assert.equal(verdict.broken_at_event_id, firstAffected, JSON.stringify(t));
      assert.equal(verdict.head, null);
      assert.ok(verdict.events_verified < events.length - chain.before || t.kind === "delete");
    }),
    { numRuns: 1000 },
  );
});

test("a window that starts mid-chain verifies against the event before it; a tamper inside it breaks it there", () => {
  const windowArb = tamperedArb
    .filter(([chain]) => chain.events.length >= 2)
    .chain(([chain, t, salt]) =>
    fc.tuple(fc.constant(chain), fc.constant(t), fc.constant(salt), fc.integer({ min: 1, max: chain.events.length - 1 }), fc.boolean()),
  );
  fc.assert(
    fc.property(windowArb, ([chain, t, salt, start, toEnd]) => {
      // Untouched: any window verifies; the head is checked (and reported) only when the window reaches it.
      const end = toEnd ? chain.events.length : Math.max(start + 1, chain.events.length - 1);
      const untouched = verifyChainWindow(chain.key, {
        head: chain.head,
        reachesHead: end === chain.events.length,
        anchor: chain.events[start - 1]!,
        events: chain.events.slice(start, end),
        unsequenced: [],
      });
      assert.equal(untouched.chain_valid, true);
      assert.equal(untouched.events_checked, end - start);
      assert.equal(untouched.head?.event_id ?? null, end === chain.events.length ? chain.events.at(-1)!.id : null);

      // Tampered: the window from `start` to the end, anchored on the stored row before it.
      const { events, firstAffected, affectedAt } = tamper(chain, t, salt);
      if (start >= events.length) return;
      const verdict = verifyChainWindow(chain.key, { head: chain.head, reachesHead: true, anchor: events[start - 1]!, events: events.slice(start), unsequenced: [] });
      if (affectedAt >= start || affectedAt === -1) {
        assert.equal(verdict.broken_at_event_id, firstAffected, JSON.stringify(t));
      } else if (affectedAt < start - 1) {
        // Entirely before the anchor: this window cannot see it, except through links that reach into it.
        const anchorAffected = t.kind === "swap" && t.with >= start - 1;
        if (!anchorAffected) assert.equal(verdict.chain_valid, true, JSON.stringify(t));
      }
    }),
    { numRuns: 600 },
  );
});

test("events from before the chain are unchained, not broken; hashless after the start, or hashed before it, are breaks", () => {
  const key = createSecretKey(Buffer.alloc(32, 3));
  const body = { action: "secret.read", actor_type: "user", resource_type: "secret", resource_id: "r", details: {}, ip_address: null, gap: 1 };
  const chain = buildChain(key, 3, Array.from({ length: 6 }, () => ({ ...body })));
  const plain = verifyChainWindow(key, whole(chain));
  assert.deepEqual([plain.chain_valid, plain.events_unchained, plain.events_verified], [true, 3, 3]);

  // Only older events in the window, anchored or not: nothing to break.
  const older = verifyChainWindow(key, { head: chain.head, reachesHead: false, anchor: chain.events[0]!, events: chain.events.slice(1, 3), unsequenced: [] });
  assert.deepEqual([older.chain_valid, older.events_unchained], [true, 2]);

  // A chained event stripped of its hash (to pass as an older one) breaks the chain there.
  const stripped = chain.events.map((e, i) => (i === 4 ? { ...e, integrity_hash: null, prev_event_id: null } : e));
  assert.equal(verifyChainWindow(key, whole(chain, stripped)).broken_at_event_id, chain.events[4]!.id);
  // The chain's first event stripped: the next one links to it, not to nothing.
  const strippedFirst = chain.events.map((e, i) => (i === 3 ? { ...e, integrity_hash: null, prev_event_id: null } : e));
  assert.equal(verifyChainWindow(key, whole(chain, strippedFirst)).broken_at_event_id, chain.events[3]!.id);
  // A head moved forward to hide the first event among the older ones: its successor does not link to nothing.
  const moved = verifyChainWindow(key, { ...whole(chain, strippedFirst), head: { ...chain.head, chain_start_seq: 5 } });
  assert.equal(moved.broken_at_event_id, chain.events[4]!.id);
  // A hashed event among the older ones (forged) is a break.
  const forged = chain.events.map((e, i) => (i === 1 ? { ...e, integrity_hash: "1".repeat(64) } : e));
  assert.equal(verifyChainWindow(key, whole(chain, forged)).broken_at_event_id, chain.events[1]!.id);
});

test("the head must name the newest event; a missing head with chained events, or a row outside any chain, is a break", () => {
  const key = createSecretKey(Buffer.alloc(32, 5));
  const body = { action: "secret.read", actor_type: "user", resource_type: "secret", resource_id: "r", details: {}, ip_address: null, gap: 2 };
  const chain = buildChain(key, 0, Array.from({ length: 4 }, () => ({ ...body })));
  const newest = chain.events.at(-1)!;

  // Every chained event deleted: the head still names the newest.
  assert.equal(verifyChainWindow(key, whole(chain, [])).broken_at_event_id, newest.id);
  // The head rewound by one (the newest event deleted and the head edited): detectable only against a head
  // recorded elsewhere, which is why the verdict reports the head.
  const rewound = verifyChainWindow(key, { ...whole(chain, chain.events.slice(0, 3)), head: { ...chain.head, last_event_id: chain.events[2]!.id, last_hash: chain.events[2]!.integrity_hash } });
  assert.equal(rewound.chain_valid, true);
  assert.notEqual(rewound.head?.integrity_hash, newest.integrity_hash);
  // No head row at all while chained events exist.
  assert.equal(verifyChainWindow(key, { ...whole(chain), head: null }).broken_at_event_id, newest.id);
  // No events and no head: nothing to verify.
  assert.equal(verifyChainWindow(key, { head: null, reachesHead: true, anchor: null, events: [], unsequenced: [] }).chain_valid, true);

  // A row with no place in any chain: a break, counted first when it is older than the first chain break.
  const stray: StoredAuditEvent = { ...chain.events[1]!, id: randomUUID(), chain_seq: null, prev_event_id: null, integrity_hash: null };
  const withStray = verifyChainWindow(key, { ...whole(chain), unsequenced: [stray] });
  assert.deepEqual([withStray.chain_valid, withStray.broken_at_event_id, withStray.events_checked], [false, stray.id, 5]);
  const edited = chain.events.map((e, i) => (i === 0 ? { ...e, action: "secret.write" } : e));
  assert.equal(verifyChainWindow(key, { ...whole(chain, edited), unsequenced: [stray] }).broken_at_event_id, chain.events[0]!.id);
});
