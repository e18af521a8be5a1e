/**
 * The behaviour every key provider backend has, as one suite run against each backend:
 * `describeProviderConformance("pkcs11 (SoftHSM2)", async () => ({ provider, cleanup }))`.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { keyBindingContext, type Protection, type VersionRef } from "../../src/envelope/contexts.js";
import { withDeadline } from "../../src/providers/deadline.js";
import { ProviderError, type KeyProvider } from "../../src/providers/provider.js";

export interface ProviderUnderTest {
  provider: KeyProvider;
  cleanup?: () => Promise<void>;
}

async function assertProviderError(promise: Promise<unknown>, kind: ProviderError["kind"]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

export function describeProviderConformance(name: string, make: () => Promise<ProviderUnderTest>, opts: { skip?: string | false } = {}): void {
  describe(`key provider conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    let under: ProviderUnderTest;
    let provider: KeyProvider;
    let vaultId: string;
    let kekId: string;
    const ref: VersionRef = { vaultId: "", path: "api-keys/stripe", version: 3 };
    const protection: Protection = { custody: "2of3_multi_hsm", threshold: 2, providers: ["gcp", "aws", "azure"] };
    let holder: { shareIndex: number; slot: string; kekId: string };
    const binding = (changes: { ref?: Partial<VersionRef>; protection?: Partial<Protection>; holder?: Partial<typeof holder> } = {}) =>
      keyBindingContext({ ...ref, ...changes.ref }, { ...protection, ...changes.protection }, { ...holder, ...changes.holder });

    before(async () => {
      under = await make();
      provider = withDeadline(under.provider, 5000);
      vaultId = randomUUID();
      ref.vaultId = vaultId;
      kekId = await provider.createKek(vaultId);
      holder = { shareIndex: 2, slot: provider.slot, kekId };
    });
    after(async () => {
      await under?.provider.close();
      await under?.cleanup?.();
    });

    test("wrap then unwrap gives the input back", async () => {
      for (const length of [1, 32, 33, 200]) {
        const input = randomBytes(length);
        const wrapped = await provider.wrap(kekId, input, binding());
        // Checked where a chance match is negligible: a 1-byte prefix equals a 1-byte input 1 time in 256.
        if (length >= 16) assert.equal(Buffer.from(wrapped).indexOf(input), -1, "the wrapped form must not expose the input");
        assert.deepEqual(Buffer.from(await provider.unwrap(kekId, wrapped, binding())), input);
      }
    });

    test("unwrap under any other binding fails as an integrity error and returns no bytes", async () => {
      const input = randomBytes(32);
      const wrapped = await provider.wrap(kekId, input, binding());
      const others = {
        vault: binding({ ref: { vaultId: randomUUID() } }),
        path: binding({ ref: { path: "api-keys/other" } }),
        version: binding({ ref: { version: 4 } }),
        mode: binding({ protection: { custody: "2of3_client_custody" } }),
        threshold: binding({ protection: { threshold: 3 } }),
        providers: binding({ protection: { providers: ["gcp", "aws", "client"] } }),
        "share index": binding({ holder: { shareIndex: 1 } }),
        slot: binding({ holder: { slot: "elsewhere" } }),
      };
      for (const [what, aad] of Object.entries(others)) {
        await assertProviderError(provider.unwrap(kekId, wrapped, aad), "integrity").catch((error) => {
          throw new Error(`changed ${what}: ${(error as Error).message}`);
        });
      }
    });

    test("a tampered wrapped key fails as an integrity error", async () => {
      const wrapped = Buffer.from(await provider.wrap(kekId, randomBytes(32), binding()));
      wrapped[wrapped.length - 1]! ^= 0x01;
      await assertProviderError(provider.unwrap(kekId, wrapped, binding()), "integrity");
    });

    test("each vault gets its own KEK: another vault's KEK does not unwrap", async () => {
      const otherKek = await provider.createKek(randomUUID());
      assert.notEqual(otherKek, kekId);
      const wrapped = await provider.wrap(kekId, randomBytes(32), binding());
      await assert.rejects(provider.unwrap(otherKek, wrapped, binding({ holder: { kekId: otherKek } })), ProviderError);
    });

    test("a vault's next KEK is its own key: disabling the former one leaves the next one working", async () => {
      // Enabling MPC (and a KEK rotation) makes a vault a new KEK at the same backend, then disables the former.
      assert.equal(typeof provider.disableKek, "function", "every backend can disable a KEK");
      const former = await provider.createKek(vaultId);
      const next = await provider.createKek(vaultId);
      assert.notEqual(next, former);
      const at = (id: string) => binding({ holder: { kekId: id } });
      const keptInput = randomBytes(32);
      const kept = await provider.wrap(next, keptInput, at(next));
      const stopped = await provider.wrap(former, randomBytes(32), at(former));
      await provider.disableKek!(former);
      await assertProviderError(provider.unwrap(former, stopped, at(former)), "misconfigured");
      assert.deepEqual(Buffer.from(await provider.unwrap(next, kept, at(next))), keptInput);
      assert.deepEqual(Buffer.from(await provider.unwrap(next, await provider.wrap(next, keptInput, at(next)), at(next))), keptInput);
      // and the vault's first KEK is untouched too
      await provider.wrap(kekId, randomBytes(32), binding());
    });

    test("a call given an aborted signal ends as unavailable", async () => {
      const controller = new AbortController();
      controller.abort();
      await assertProviderError(provider.wrap(kekId, randomBytes(32), binding(), { signal: controller.signal }), "unavailable");
    });

    test("health reports a status and a latency", async () => {
      const health = await provider.health();
      assert.equal(health.status, "ok");
      assert.equal(typeof health.latencyMs, "number");
      assert.ok(health.latencyMs >= 0);
    });
  });
}
