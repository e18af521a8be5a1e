/**
 * The share moves of the MPC key lifecycle (`envelope/reshare.ts`), property-tested with fast-check over real
 * local providers (key files in a temporary folder):
 *
 * - re-split (proactive refresh, multi-HSM replacement): the new shares rebuild the same DEK, every new share
 *   differs from the old share at its x (fresh coefficients), and no old share combines with a new share at
 *   another x to the DEK; after a replacement the share that left with the old slot combines with no new one;
 * - re-split with the client's share (a client's secret-refresh): a new client share, which combines with the
 *   new server shares to the DEK, while the old client share combines with none of them;
 * - re-wrap (KEK rotation, client-custody replacement): every share keeps its value, is wrapped at the slot and
 *   under the KEK the target layout names, and no longer opens under its old binding.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { combine, decodeClientShare, equalBytes, xorCombine } from "@shardvault/crypto";
import { keyBindingContext, type VersionRef } from "../src/envelope/contexts.js";
import { custodyMode } from "../src/envelope/custody-modes.js";
import { LatencyTracker } from "../src/envelope/latency.js";
import { mpcProtection, protectDek, type MpcVault, type StoredShare } from "../src/envelope/mpc.js";
import { resplitDek, rewrapShares } from "../src/envelope/reshare.js";
import { createLocalProvider } from "../src/providers/local.js";
import { ProviderError } from "../src/providers/provider.js";
import { createRegistry } from "../src/providers/registry.js";

const dir = mkdtempSync(join(tmpdir(), "sv-reshare-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const SLOTS = ["gcp", "aws", "azure", "spare"];
const providers = createRegistry(
  SLOTS.map((slot) => createLocalProvider(slot, join(dir, `${slot}.key`))),
  "gcp",
);
const opts = () => ({ latency: new LatencyTracker(), onCorruptShare: (slot: string) => assert.fail(`a share of ${slot} was reported corrupt`) });

async function layout(mode: string, holders: string[]): Promise<MpcVault> {
  const slots = holders.filter((h) => h !== "client");
  const keks = new Map(await Promise.all(slots.map(async (slot) => [slot, await providers.get(slot)!.createKek("v")] as const)));
  return { mode: custodyMode(mode), holders, keks };
}

/** The plaintext share values of stored shares, by x (Shamir layout: `[y…, x]`). */
async function values(vault: MpcVault, ref: VersionRef, shares: readonly StoredShare[]): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  for (const s of shares) {
    const aad = keyBindingContext(ref, mpcProtection(vault), { shareIndex: s.shareIndex, slot: s.provider, kekId: s.kekId });
    out.set(s.shareIndex, await providers.get(s.provider)!.unwrap(s.kekId, s.wrappedShare, aad));
  }
  return out;
}

const ref = (n: number): VersionRef => ({ vaultId: "00000000-0000-4000-8000-000000000001", path: `p/${n}`, version: 1 + (n % 3) });
const dekArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("re-split: fresh coefficients", () => {
  test("multi-HSM refresh: new shares rebuild the DEK; no old share combines with a new one", async () => {
    const vault = await layout("2of3_multi_hsm", ["gcp", "aws", "azure"]);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(dekArb, async (dek) => {
        const r = ref(n++);
        const before = await protectDek(vault, providers, r, dek);
        const after = await resplitDek(vault, vault, providers, r, before, opts());
        const oldShares = await values(vault, r, before.shares);
        const newShares = await values(vault, r, after.shares);
        for (const [x, share] of newShares) {
          assert.ok(!equalBytes(share, oldShares.get(x)!), `the share at x=${x} did not change`);
          for (const [y, other] of newShares) if (x < y) assert.deepEqual(combine([share, other]), dek, "two new shares rebuild the DEK");
          for (const [y, old] of oldShares) if (x !== y) assert.ok(!equalBytes(combine([old, share]), dek), `old x=${y} and new x=${x} combined to the DEK`);
        }
        // The commitment binds the same DEK to the same context.
        assert.deepEqual(after.commitment, before.commitment);
      }),
      { numRuns: 40 },
    );
  });

  test("multi-HSM replacement: the replaced slot's share combines with no share of the new split", async () => {
    const from = await layout("2of3_multi_hsm", ["gcp", "aws", "azure"]);
    const to: MpcVault = { ...(await layout("2of3_multi_hsm", ["spare", "aws", "azure"])) };
    let n = 100;
    await fc.assert(
      fc.asyncProperty(dekArb, async (dek) => {
        const r = ref(n++);
        const before = await protectDek(from, providers, r, dek);
        const after = await resplitDek(from, to, providers, r, before, opts());
        assert.deepEqual(after.shares.map((s) => s.provider), ["spare", "aws", "azure"]);
        const leaving = (await values(from, r, before.shares)).get(1)!;
        const fresh = await values(to, r, after.shares);
        assert.deepEqual(combine([fresh.get(1)!, fresh.get(3)!]), dek);
        for (const x of [2, 3]) assert.ok(!equalBytes(combine([leaving, fresh.get(x)!]), dek), `the gcp share combined with the new x=${x}`);
        // The new shares are bound to the new holder list: under the old one they do not open.
        const aws = after.shares[1]!;
        await assert.rejects(
          providers.get("aws")!.unwrap(aws.kekId, aws.wrappedShare, keyBindingContext(r, mpcProtection(from), { shareIndex: 2, slot: "aws", kekId: aws.kekId })),
          (e: unknown) => e instanceof ProviderError && e.kind === "integrity",
        );
      }),
      { numRuns: 30 },
    );
  });

  for (const mode of ["2of2_client_custody", "2of3_client_custody"] as const) {
    test(`${mode}: a refresh with the client's share gives a new client share; the old one combines with no new share`, async () => {
      const holders = mode === "2of2_client_custody" ? ["gcp", "client"] : ["gcp", "aws", "client"];
      const vault = await layout(mode, holders);
      const xor = mode === "2of2_client_custody";
      const part = async (encoded: string) => {
        const share = await decodeClientShare(encoded);
        return xor ? share.share : Uint8Array.from([...share.share, share.index]);
      };
      const rebuild = (a: Uint8Array, b: Uint8Array) => (xor ? xorCombine(a, b) : combine([a, b]));
      let n = 200;
      await fc.assert(
        fc.asyncProperty(dekArb, async (dek) => {
          const r = ref(n++);
          const before = await protectDek(vault, providers, r, dek);
          const after = await resplitDek(vault, vault, providers, r, before, { ...opts(), clientShare: await decodeClientShare(before.clientShare!) });
          assert.notEqual(after.clientShare, before.clientShare);
          const servers = await values(vault, r, after.shares);
          for (const share of servers.values()) {
            assert.deepEqual(rebuild(share, await part(after.clientShare!)), dek, "the new client share with a new server share");
            assert.ok(!equalBytes(rebuild(share, await part(before.clientShare!)), dek), "the old client share combined with a new server share");
          }
        }),
        { numRuns: 30 },
      );
    });
  }
});

describe("re-wrap: values kept, wrapping moved", () => {
  test("rotation and client-custody replacement keep every share's value, under the target's slot, KEK and binding", async () => {
    let n = 300;
    await fc.assert(
      fc.asyncProperty(dekArb, fc.constantFrom("rotate", "replace"), fc.constantFrom("2of3_client_custody", "2of3_multi_hsm"), async (dek, kind, mode) => {
        const holders = mode === "2of3_client_custody" ? ["gcp", "aws", "client"] : ["gcp", "aws", "azure"];
        const source = await layout(mode, holders);
        const target = await layout(mode, kind === "rotate" ? holders : holders.map((h) => (h === "gcp" ? "spare" : h)));
        const r = ref(n++);
        const stored = await protectDek(source, providers, r, dek);
        const moved = await rewrapShares(source, target, providers, r, stored.shares);
        assert.deepEqual(
          moved.map((s) => [s.provider, s.shareIndex, s.kekId]),
          target.holders.flatMap((slot, i) => (slot === "client" ? [] : [[slot, i + 1, target.keks.get(slot)]])),
        );
        assert.deepEqual(await values(target, r, moved), await values(source, r, stored.shares));
        // Bound to the new KEK (and holders): under the binding the share had before, it does not open.
        for (const s of moved) {
          const was = stored.shares.find((w) => w.shareIndex === s.shareIndex)!;
          const old = keyBindingContext(r, mpcProtection(source), { shareIndex: s.shareIndex, slot: was.provider, kekId: was.kekId });
          await assert.rejects(providers.get(s.provider)!.unwrap(s.kekId, s.wrappedShare, old), ProviderError);
        }
      }),
      { numRuns: 30 },
    );
  });
});
