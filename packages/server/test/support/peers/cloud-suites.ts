/**
 * The suites each cloud backend (aws-kms, gcp-kms, azure-keyvault) runs against its local wire peer, beside
 * the provider conformance suite:
 *
 * - faults: latency, throttling (retried, then given up), 5xx, refused connections, hangs ended by the
 *   deadline or the caller's abort, wrong bindings, refused credentials, disabled keys, health;
 * - configuration refusals through `loadDeployment`;
 * - the server's vault/secret API over HTTP with the backend as the default provider, on PostgreSQL.
 *
 * No assertion here measures wall-clock time: deadlines are a safety net far beyond any working call, a
 * deadline under test falls due when the test aborts its signal, and an abort is sent only once the peer has
 * the request (so that it can reach the wire).
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { loadDeployment } from "../../../src/config/deployment.js";
import { readSettings } from "../../../src/config/env.js";
import type { Logger } from "../../../src/log.js";
import { ConfigError, type Backend, type BackendContext } from "../../../src/providers/backend.js";
import { withDeadline } from "../../../src/providers/deadline.js";
import { ProviderError, type KeyProvider } from "../../../src/providers/provider.js";
import { api, assertNoLeak, makeTempDir, secretValue, startServer, type ServerHandle } from "../harness.js";
import { createTestDatabase, type TestDatabase } from "../postgres.js";
import type { WirePeer } from "./faults.js";

export const silentLog: Logger = { info() {}, warn() {}, error() {}, raw() {} };

export interface SlotConfig {
  fields: Record<string, unknown>;
  env: Record<string, string>;
}

/** Builds a provider the way the server does (parse, then create), with short retry waits for tests. */
export async function providerFrom<C>(backend: Backend<C>, slot: string, { fields, env }: SlotConfig, overrides: Partial<C> = {}): Promise<KeyProvider> {
  const ctx: BackendContext = { env, log: silentLog, configDir: process.cwd() };
  return backend.create(slot, { ...backend.parse(slot, fields, ctx), ...overrides }, ctx);
}

export async function assertKind(promise: Promise<unknown>, kind: ProviderError["kind"], context = ""): Promise<ProviderError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ProviderError, `${context}expected a ProviderError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, `${context}${caught.message}`);
  return caught;
}

/** Waits (bounded) for a condition the peer observes asynchronously, such as a closed connection. */
export async function eventually(condition: () => boolean, what: string, limitMs = 2000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= limitMs) assert.fail(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface FaultTarget<P extends WirePeer = WirePeer> {
  peer: P;
  /** A provider on the peer, at most 2 retries with short waits. */
  provider: KeyProvider;
  /** A provider on the same peer whose credentials the peer refuses. */
  refusedCredentials(): Promise<KeyProvider>;
  /** The peer's operation name for wrap (counted per request). */
  wrapOperation: string;
  /** Disables a KEK at the peer. */
  disableKek(kekId: string): void;
  cleanup(): Promise<void>;
}

export function describeCloudProviderFaults<P extends WirePeer>(
  name: string,
  setup: () => Promise<FaultTarget<P>>,
  extra?: (get: () => FaultTarget<P> & { kekId: string }) => void,
): void {
  describe(`${name}: faults through the SDK`, () => {
    /** A deadline no working call comes near, and each test's own bound: safety nets against hangs, not timings. */
    const SAFETY_NET_MS = 30_000;
    const TEST = { timeout: 2 * SAFETY_NET_MS };
    let target: FaultTarget<P>;
    let kekId: string;
    const aad = Buffer.from("binding: vault v1, path p, version 1");
    const wrapCount = () => target.peer.count(target.wrapOperation);

    before(async () => {
      target = await setup();
      kekId = await target.provider.createKek(randomUUID());
      // Warm up: credentials, the auth challenge, key metadata and connections are in place before faults.
      const wrapped = await target.provider.wrap(kekId, randomBytes(32), aad);
      await target.provider.unwrap(kekId, wrapped, aad);
    });
    afterEach(async () => {
      await target.peer.reset();
    });
    after(async () => {
      await target?.provider.close();
      await target?.cleanup();
    });

    test("a slow answer (latency) is no failure: the call succeeds", TEST, async () => {
      await target.peer.fault({ latencyMs: 60 });
      const bounded = withDeadline(target.provider, SAFETY_NET_MS);
      const input = randomBytes(32);
      const wrapped = await bounded.wrap(kekId, input, aad);
      assert.deepEqual(Buffer.from(await bounded.unwrap(kekId, wrapped, aad)), input);
    });

    test("throttling answers are retried, and the call succeeds when the throttling stops", TEST, async () => {
      await target.peer.fault({ throttle: 2 });
      const before = wrapCount();
      const input = randomBytes(32);
      const wrapped = await withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, input, aad);
      assert.equal(wrapCount() - before, 3, "two throttled attempts, then the one that succeeded");
      assert.deepEqual(Buffer.from(await target.provider.unwrap(kekId, wrapped, aad)), input);
    });

    test("throttling that persists ends as unavailable after the bounded retries (no SDK retries on top)", TEST, async () => {
      await target.peer.fault({ throttle: 1000 });
      const before = wrapCount();
      await assertKind(withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, randomBytes(32), aad), "unavailable");
      assert.equal(wrapCount() - before, 3, "one attempt and max_retries (2) retries");
    });

    test("5xx answers end as unavailable after the bounded retries", TEST, async () => {
      await target.peer.fault({ error5xx: 1000 });
      const before = wrapCount();
      await assertKind(withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, randomBytes(32), aad), "unavailable");
      assert.equal(wrapCount() - before, 3);
    });

    test("a single 5xx is retried and the call succeeds", TEST, async () => {
      await target.peer.fault({ error5xx: 1 });
      await withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, randomBytes(32), aad);
    });

    test("a refused connection ends as unavailable", TEST, async () => {
      await target.peer.fault({ refuse: true });
      await assertKind(withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, randomBytes(32), aad), "unavailable");
      await target.peer.reset();
      // and the provider recovers once the peer listens again
      await withDeadline(target.provider, SAFETY_NET_MS).wrap(kekId, randomBytes(32), aad);
    });

    test("a hanging call ends at its deadline as unavailable, and the SDK's request is aborted on the wire", TEST, async () => {
      await target.peer.fault({ hang: true });
      const abandoned = target.peer.abandoned;
      const wraps = wrapCount();
      const deadline = new AbortController();
      const pending = withDeadline(target.provider, SAFETY_NET_MS, () => deadline.signal).wrap(kekId, randomBytes(32), aad);
      await eventually(() => wrapCount() > wraps, "the request reached the peer");
      deadline.abort(); // the deadline falls due
      await assertKind(pending, "unavailable");
      // The deadline's signal reached the SDK: it closed the request instead of leaving it open.
      await eventually(() => target.peer.abandoned > abandoned, "the peer saw the request abandoned");
    });

    test("a hanging call ends when the caller aborts (the adapter honours the signal itself)", TEST, async () => {
      await target.peer.fault({ hang: true });
      const abandoned = target.peer.abandoned;
      const wraps = wrapCount();
      const controller = new AbortController();
      // The raw provider, without withDeadline's race: only the signal passed to the SDK can end this call.
      const pending = target.provider.wrap(kekId, randomBytes(32), aad, { signal: controller.signal });
      await eventually(() => wrapCount() > wraps, "the request reached the peer");
      controller.abort();
      await assertKind(pending, "unavailable");
      await eventually(() => target.peer.abandoned > abandoned, "the peer saw the request abandoned");
    });

    test("unwrap under another binding is an integrity error", TEST, async () => {
      const wrapped = await target.provider.wrap(kekId, randomBytes(32), aad);
      await assertKind(target.provider.unwrap(kekId, wrapped, Buffer.from("binding: vault v2, path p, version 1")), "integrity");
    });

    test("credentials the peer refuses are a misconfiguration, not retried", TEST, async () => {
      const refused = await target.refusedCredentials();
      try {
        const before = target.peer.count();
        await assertKind(refused.wrap(kekId, randomBytes(32), aad), "misconfigured");
        assert.ok(target.peer.count() > before, "the request reached the peer, which refused it");
        const health = await refused.health();
        assert.equal(health.status, "unavailable");
        assert.match(health.detail ?? "", /misconfigured/);
      } finally {
        await refused.close();
      }
    });

    test("a disabled KEK is a misconfiguration, and health reports it", TEST, async () => {
      const other = await target.provider.createKek(randomUUID());
      const wrapped = await target.provider.wrap(other, randomBytes(32), aad);
      target.disableKek(other);
      await assertKind(target.provider.wrap(other, randomBytes(32), aad), "misconfigured");
      await assertKind(target.provider.unwrap(other, wrapped, aad), "misconfigured");
      const health = await target.provider.health();
      assert.equal(health.status, "degraded", health.detail);
    });

    test("disableKek stops a per-vault KEK at the provider: wrap and unwrap are refused afterwards", TEST, async () => {
      const bounded = withDeadline(target.provider, SAFETY_NET_MS);
      assert.equal(typeof bounded.disableKek, "function");
      // Key creation has no deadline here: a peer generating an RSA key on a loaded machine can take a while.
      const other = await target.provider.createKek(randomUUID());
      const wrapped = await bounded.wrap(other, randomBytes(32), aad);
      await bounded.disableKek!(other);
      await assertKind(bounded.wrap(other, randomBytes(32), aad), "misconfigured");
      await assertKind(bounded.unwrap(other, wrapped, aad), "misconfigured");
      // the vault's own KEK is untouched
      await bounded.wrap(kekId, randomBytes(32), aad);
    });

    test("health is ok with a latency, and unavailable (not thrown) while the peer refuses connections", TEST, async () => {
      await target.provider.wrap(kekId, randomBytes(32), aad); // the known KEK is an enabled one again
      const ok = await target.provider.health();
      assert.equal(ok.status, "ok");
      assert.ok(ok.latencyMs >= 0);
      await target.peer.fault({ refuse: true });
      const down = await withDeadline(target.provider, SAFETY_NET_MS).health();
      assert.equal(down.status, "unavailable");
      assert.match(down.detail ?? "", /unavailable/);
    });

    extra?.(() => ({ ...target, kekId }));
  });
}

// ---------------------------------------------------------------------------------------------------------
// Configuration refusals

export interface ConfigCase {
  /** Fields of the slot besides `backend`. */
  fields: Record<string, unknown>;
  env?: Record<string, string>;
  error?: RegExp;
}

export function loadConfig(file: Record<string, unknown>, env: Record<string, string> = {}) {
  const dir = makeTempDir("sv-config-");
  const path = join(dir, "shardvault.json");
  writeFileSync(path, JSON.stringify(file));
  return loadDeployment(readSettings({ SHARDVAULT_CONFIG: path }), env, silentLog);
}

export function describeConfigRefusals(
  backend: string,
  cases: { valid: ConfigCase; shared: ConfigCase; refused: Record<string, ConfigCase> },
): void {
  const slotFile = (c: ConfigCase, slot = "main") => ({ providers: { [slot]: { backend, ...c.fields } } });
  describe(`${backend}: configuration`, () => {
    test("a valid slot loads, per-vault KEKs by default", () => {
      const deployment = loadConfig(slotFile(cases.valid), cases.valid.env);
      const [slot] = deployment.slots;
      assert.equal(slot!.backend.name, backend);
      assert.equal(slot!.backend.sharedKek?.(slot!.config), false);
    });

    test("kek_strategy shared with its key loads, and says so", () => {
      const deployment = loadConfig(slotFile(cases.shared), cases.shared.env);
      const [slot] = deployment.slots;
      assert.equal(slot!.backend.sharedKek?.(slot!.config), true);
    });

    test("two slots on the same trust domain are refused unless allowed", () => {
      const file = { providers: { one: { backend, ...cases.valid.fields }, two: { backend, ...cases.valid.fields } } };
      assert.throws(() => loadConfig(file, cases.valid.env), (e: unknown) => e instanceof ConfigError && /same trust domain/.test(e.message));
      const allowed = loadConfig({ ...file, allow_shared_trust_domain: true }, cases.valid.env);
      assert.equal(allowed.sharedTrustDomain, true);
    });

    for (const [what, c] of Object.entries(cases.refused)) {
      test(`refused: ${what}`, () => {
        assert.throws(
          () => loadConfig(slotFile(c), c.env ?? cases.valid.env),
          (e: unknown) => {
            assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
            if (c.error) assert.match(e.message, c.error);
            assert.match(e.message, /providers\.main/, "the message names the slot");
            return true;
          },
        );
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// The server with the backend as its default provider, on PostgreSQL

export interface ServerSuiteTarget {
  peer: WirePeer;
  backend: string;
  slot: SlotConfig;
  /** Strings that must never appear in the server's output (tokens, secret keys). */
  secrets: string[];
  /** Peer operations that must have been called: key creation, wrap, unwrap. */
  operations: { createKek: string; wrap: string; unwrap: string };
}

/** `skip`: `await postgresSkipReason()` from support/postgres.ts, evaluated at the test file's top level. */
export function describeServerWithDefaultProvider(name: string, skip: string | false, setup: () => Promise<ServerSuiteTarget>): void {
  describe(`${name} as the default provider: secrets over HTTP on PostgreSQL`, { skip }, () => {
    let target: ServerSuiteTarget;
    let database: TestDatabase | undefined;
    let server: ServerHandle | undefined;

    before(async () => {
      target = await setup();
      const dir = makeTempDir("sv-provider-server-");
      const config = join(dir, "shardvault.json");
      writeFileSync(config, JSON.stringify({ default_provider: "kms", deadline_ms: 30_000, providers: { kms: { backend: target.backend, ...target.slot.fields } } }));
      database = await createTestDatabase(target.backend.replace(/-/g, "_"));
      server = await startServer({ database: "postgres", databaseUrl: database.url, env: { SHARDVAULT_CONFIG: config, ...target.slot.env } });
    });
    after(async () => {
      await server?.stop().catch(() => undefined);
      await database?.drop();
      await target?.peer.stop();
    });

    test("create a vault, PUT and GET a secret; the server prints no secret value or token", { timeout: 30_000 }, async () => {
      const admin = api(server!.url, server!.adminKey);
      const created = await admin.post("/v1/vaults", { name: `on-${target.backend}` });
      assert.equal(created.status, 201, created.text);
      const vaultId = created.body.id as string;
      const value = secretValue(target.backend);
      const put = await admin.put(`/v1/vaults/${vaultId}/secrets/db/password`, { value });
      assert.equal(put.status, 201, put.text);
      const read = await admin.get(`/v1/vaults/${vaultId}/secrets/db/password`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.value, value);
      const { createKek, wrap, unwrap } = target.operations;
      assert.ok(target.peer.count(createKek) >= 1, `the peer created a KEK (${createKek})`);
      assert.ok(target.peer.count(wrap) >= 1, `the peer wrapped (${wrap})`);
      assert.ok(target.peer.count(unwrap) >= 1, `the peer unwrapped (${unwrap})`);
      const health = await admin.get("/v1/health");
      assert.equal(health.status, 200, health.text);
      await server!.stop();
      assertNoLeak(server!.output(), [value, server!.adminKey, ...target.secrets]);
    });
  });
}
