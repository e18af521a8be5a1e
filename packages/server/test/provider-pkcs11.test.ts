/**
 * The PKCS#11 provider against a real SoftHSM2 token: the conformance suite, the KEK's attributes as the token
 * reports them, PIN handling (one attempt, never retried, never shown), token lookup by label, session reuse
 * and recovery, configuration parsing, and the server's secret PUT/GET over HTTP with the HSM as default
 * provider on PostgreSQL.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadDeployment } from "../src/config/deployment.js";
import { readSettings } from "../src/config/env.js";
import { keyBindingContext } from "../src/envelope/contexts.js";
import type { Logger } from "../src/log.js";
import { ConfigError, type BackendContext } from "../src/providers/backend.js";
import { BACKENDS } from "../src/providers/backends.js";
import { pkcs11Backend } from "../src/providers/pkcs11.js";
import type { Pkcs11Config } from "../src/providers/pkcs11-api.js";
import { importPkcs11js } from "../src/providers/pkcs11-module.js";
import { ProviderError, type KeyProvider } from "../src/providers/provider.js";
import { api, assertNoLeak, secretValue } from "./support/harness.js";
import { deploy, postgresSkipReason, withClient } from "./support/postgres.js";
import { describeProviderConformance } from "./support/provider-conformance.js";
import { loadPkcs11js, makeSoftHsm, softHsmSkipReason, SOFTHSM_MODULE, withToken as withTokenOf, type Pkcs11js, type SoftHsm } from "./support/softhsm.js";

const skip = await softHsmSkipReason();

// ---------------------------------------------------------------------------------------------------------
// Helpers

function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    raw: (m) => lines.push(`raw ${m}`),
  };
}

async function assertProviderError(promise: Promise<unknown>, kind: ProviderError["kind"], message?: RegExp): Promise<ProviderError> {
  let caught: ProviderError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProviderError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    if (message) assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}

/** pkcs11js itself, for looking at the token from outside the provider and for counting calls. */
const pkcs11js: Pkcs11js | undefined = skip ? undefined : await loadPkcs11js();

/**
 * Counts calls of the native methods the provider makes (every PKCS11 instance copies them from the native
 * prototype when constructed, so the counter sees the provider's calls too).
 */
const calls = { C_Login: 0, C_OpenSession: 0 };
if (pkcs11js) {
  const native = Object.getPrototypeOf(pkcs11js.PKCS11.prototype);
  for (const name of Object.keys(calls) as Array<keyof typeof calls>) {
    const original = native[name];
    native[name] = function (this: unknown, ...args: unknown[]) {
      calls[name]++;
      return original.apply(this, args);
    };
  }
}

const PIN_ENV = "SV_TEST_PKCS11_PIN";

// One token folder for this process (SoftHSM reads SOFTHSM2_CONF at C_Initialize), with a second token in it.
let hsm: SoftHsm | undefined;
let secondToken: { label: string; pin: string } | undefined;
if (!skip) {
  hsm = makeSoftHsm({ label: "sv-pkcs11-test" });
  secondToken = hsm.addToken("sv-pkcs11-second");
}
after(async () => {
  await hsm?.cleanup();
});

const baseDir = mkdtempSync(join(tmpdir(), "sv-pkcs11-"));
process.on("exit", () => rmSync(baseDir, { recursive: true, force: true }));

function configFor(changes: Partial<Pkcs11Config> = {}): Pkcs11Config {
  return { module: SOFTHSM_MODULE, tokenLabel: hsm!.label, pin: { env: PIN_ENV }, ...changes };
}

function contextFor(env: NodeJS.ProcessEnv = { [PIN_ENV]: hsm!.pin }, log: Logger = captureLogger()): BackendContext {
  return { env, log, configDir: baseDir };
}

const aad = (kekId: string, slot = "hsm") =>
  keyBindingContext(
    { vaultId: randomUUID(), path: "db/password", version: 1 },
    { custody: "none", threshold: 1, providers: [slot] },
    { shareIndex: 0, slot, kekId },
  );

/** Opens the token with pkcs11js directly (no provider may hold the module meanwhile) and runs `fn`. */
const withToken = <T>(label: string, pin: string, fn: (lib: any, session: Buffer) => T): T => withTokenOf(pkcs11js!, label, pin, fn);

// ---------------------------------------------------------------------------------------------------------
// The conformance suite

describeProviderConformance(
  "pkcs11 (SoftHSM2)",
  async () => ({ provider: await pkcs11Backend.create("hsm", configFor(), contextFor()) }),
  { skip },
);

// ---------------------------------------------------------------------------------------------------------
// The provider on a real token

describe("pkcs11 provider on SoftHSM2", { skip }, () => {
  test("is registered as the pkcs11 backend", () => {
    assert.equal(BACKENDS.get("pkcs11"), pkcs11Backend);
  });

  test("a KEK is an AES-256 key generated in the token: non-extractable, sensitive, private, named by its id; its value cannot be read", async () => {
    const provider = await pkcs11Backend.create("hsm", configFor(), contextFor());
    const kekId = await provider.createKek(randomUUID());
    assert.match(kekId, /^pkcs11:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const binding = aad(kekId);
    const wrapped = await provider.wrap(kekId, Buffer.from("a 32-byte data encryption key..."), binding);
    await provider.close();

    const p = pkcs11js!;
    withToken(hsm!.label, hsm!.pin, (lib, session) => {
      lib.C_FindObjectsInit(session, [{ type: p.CKA_LABEL, value: kekId }]);
      const found: Buffer[] = lib.C_FindObjects(session, 10);
      lib.C_FindObjectsFinal(session);
      assert.equal(found.length, 1, "exactly one object carries the KEK's label");
      const key = found[0]!;
      const attrs = lib.C_GetAttributeValue(session, key, [
        { type: p.CKA_CLASS },
        { type: p.CKA_KEY_TYPE },
        { type: p.CKA_VALUE_LEN },
        { type: p.CKA_TOKEN },
        { type: p.CKA_PRIVATE },
        { type: p.CKA_EXTRACTABLE },
        { type: p.CKA_SENSITIVE },
        { type: p.CKA_NEVER_EXTRACTABLE },
        { type: p.CKA_ALWAYS_SENSITIVE },
        { type: p.CKA_ENCRYPT },
        { type: p.CKA_DECRYPT },
        { type: p.CKA_WRAP },
        { type: p.CKA_ID },
      ]) as Array<{ type: number; value: Buffer }>;
      const value = (type: number) => attrs.find((a) => a.type === type)!.value;
      const ulong = (type: number) => Number(value(type).readBigUInt64LE(0));
      const bool = (type: number) => value(type)[0] === 1;
      assert.equal(ulong(p.CKA_CLASS), p.CKO_SECRET_KEY);
      assert.equal(ulong(p.CKA_KEY_TYPE), p.CKK_AES);
      assert.equal(ulong(p.CKA_VALUE_LEN), 32, "AES-256");
      assert.equal(bool(p.CKA_TOKEN), true, "a token object, not a session object");
      assert.equal(bool(p.CKA_PRIVATE), true);
      assert.equal(bool(p.CKA_EXTRACTABLE), false, "CKA_EXTRACTABLE");
      assert.equal(bool(p.CKA_SENSITIVE), true, "CKA_SENSITIVE");
      assert.equal(bool(p.CKA_NEVER_EXTRACTABLE), true);
      assert.equal(bool(p.CKA_ALWAYS_SENSITIVE), true);
      assert.equal(bool(p.CKA_ENCRYPT), true);
      assert.equal(bool(p.CKA_DECRYPT), true);
      assert.equal(bool(p.CKA_WRAP), false);
      assert.equal(value(p.CKA_ID).toString("utf8"), kekId);
      assert.throws(() => lib.C_GetAttributeValue(session, key, [{ type: p.CKA_VALUE }]), /CKR_ATTRIBUTE_SENSITIVE/, "the key's value must not be readable");
    });

    // The KEK lives in the token: a provider started later (a server restart) unwraps what this one wrapped.
    const again = await pkcs11Backend.create("hsm", configFor(), contextFor());
    try {
      assert.equal(Buffer.from(await again.unwrap(kekId, wrapped, binding)).toString(), "a 32-byte data encryption key...");
    } finally {
      await again.close();
    }
  });

  describe("with one provider", () => {
    let provider: KeyProvider;
    let kekId: string;
    const log = captureLogger();
    before(async () => {
      provider = await pkcs11Backend.create("hsm", configFor(), contextFor(undefined, log));
      kekId = await provider.createKek(randomUUID());
    });
    after(async () => {
      await provider.close();
    });

    test("the wrapped form is version 1 | 96-bit IV | ciphertext | 128-bit tag, with a fresh IV each time", async () => {
      const input = randomBytes(32);
      const binding = aad(kekId);
      const a = Buffer.from(await provider.wrap(kekId, input, binding));
      const b = Buffer.from(await provider.wrap(kekId, input, binding));
      assert.equal(a.length, 1 + 12 + 32 + 16);
      assert.equal(a[0], 1);
      assert.notDeepEqual(a.subarray(1, 13), b.subarray(1, 13), "IVs repeat");
      assert.notDeepEqual(a.subarray(13), b.subarray(13));
      assert.deepEqual(Buffer.from(await provider.unwrap(kekId, a, binding)), input);
    });

    test("the binding is the AAD: empty and long bindings work, and only the same bytes open", async () => {
      const input = randomBytes(32);
      const long = randomBytes(4096);
      for (const binding of [new Uint8Array(0), long]) {
        const wrapped = await provider.wrap(kekId, input, binding);
        assert.deepEqual(Buffer.from(await provider.unwrap(kekId, wrapped, binding)), input);
      }
      const wrapped = await provider.wrap(kekId, input, long);
      const changed = Buffer.from(long);
      changed[100]! ^= 1;
      await assertProviderError(provider.unwrap(kekId, wrapped, changed), "integrity");
      // A view into a larger buffer is read from its own offset.
      const backing = Buffer.concat([randomBytes(7), long, randomBytes(9)]);
      assert.deepEqual(Buffer.from(await provider.unwrap(kekId, wrapped, backing.subarray(7, 7 + long.length))), input);
    });

    test("a tampered IV, version byte or truncated form fails as integrity; an unknown KEK as misconfigured", async () => {
      const binding = aad(kekId);
      const wrapped = Buffer.from(await provider.wrap(kekId, randomBytes(32), binding));
      const iv = Buffer.from(wrapped);
      iv[5]! ^= 1;
      await assertProviderError(provider.unwrap(kekId, iv, binding), "integrity");
      const version = Buffer.from(wrapped);
      version[0] = 2;
      await assertProviderError(provider.unwrap(kekId, version, binding), "integrity", /malformed/);
      await assertProviderError(provider.unwrap(kekId, wrapped.subarray(0, 28), binding), "integrity", /malformed/);
      await assertProviderError(provider.unwrap(kekId, new Uint8Array(0), binding), "integrity");

      const absent = `pkcs11:${randomUUID()}`;
      await assertProviderError(provider.unwrap(absent, wrapped, binding), "misconfigured", new RegExp(`KEK ${absent} is not in token "${hsm!.label}"`));
      await assertProviderError(provider.wrap(absent, randomBytes(32), binding), "misconfigured");
      await assertProviderError(provider.unwrap("local:" + randomUUID(), wrapped, binding), "misconfigured", /unknown KEK reference/);
    });

    test("the session is reused: many operations open no session and log in no more", async () => {
      const before = { ...calls };
      const binding = aad(kekId);
      for (let i = 0; i < 50; i++) {
        const input = randomBytes(32);
        assert.deepEqual(Buffer.from(await provider.unwrap(kekId, await provider.wrap(kekId, input, binding), binding)), input);
      }
      await provider.createKek(randomUUID());
      await provider.health();
      assert.deepEqual(calls, before);
    });

    test("an aborted signal ends a call before it reaches the token", async () => {
      const controller = new AbortController();
      controller.abort();
      await assertProviderError(provider.wrap(kekId, randomBytes(32), aad(kekId), { signal: controller.signal }), "unavailable", /aborted/);
      await assertProviderError(provider.createKek("v", { signal: controller.signal }), "unavailable", /aborted/);
    });

    test("health is a token call with a latency", async () => {
      const health = await provider.health();
      assert.equal(health.status, "ok");
      assert.ok(Number.isFinite(health.latencyMs) && health.latencyMs >= 0, `latency ${health.latencyMs}`);
    });

    test("a session closed under the provider is reopened and logged in again once", async () => {
      const p = pkcs11js!;
      // Another PKCS11 instance on the already initialised module closes every session of the token.
      const outside = new p.PKCS11();
      outside.load(SOFTHSM_MODULE);
      const slot = (outside.C_GetSlotList(true) as Buffer[]).find((s) => outside.C_GetTokenInfo(s).label.trim() === hsm!.label)!;
      outside.C_CloseAllSessions(slot);
      const logins = calls.C_Login;
      const input = randomBytes(32);
      const binding = aad(kekId);
      assert.deepEqual(Buffer.from(await provider.unwrap(kekId, await provider.wrap(kekId, input, binding), binding)), input);
      assert.equal(calls.C_Login, logins + 1);
      assert.equal((await provider.health()).status, "ok");
      assert.ok(log.lines.some((l) => /session .* was lost/.test(l)), log.lines.join("\n"));
    });

    test("nothing it logs holds the PIN", () => {
      assert.ok(log.lines.length > 0);
      for (const line of log.lines) assert.ok(!line.includes(hsm!.pin), line);
    });
  });

  test("a wrong PIN fails start-up once as misconfigured, naming the slot and not the PIN; the token is not locked", async () => {
    const wrongPin = `wrong-${randomBytes(6).toString("hex")}`;
    const log = captureLogger();
    const logins = calls.C_Login;
    const error = await assertProviderError(
      pkcs11Backend.create("hsm-main", configFor(), contextFor({ [PIN_ENV]: wrongPin }, log)),
      "misconfigured",
      /^hsm-main: login to token "sv-pkcs11-test" .* refused: CKR_PIN_INCORRECT.*not retried/,
    );
    assert.equal(calls.C_Login, logins + 1, "exactly one login attempt");
    assert.ok(!error.message.includes(wrongPin) && !error.message.includes(hsm!.pin), "the error holds a PIN");
    assert.match(error.message, new RegExp(PIN_ENV), "the error names where the PIN came from");
    for (const line of log.lines) assert.ok(!line.includes(wrongPin), line);

    const p = pkcs11js!;
    withToken(hsm!.label, hsm!.pin, (lib, session) => {
      const flags: number = lib.C_GetTokenInfo(lib.C_GetSessionInfo(session).slotID).flags;
      assert.equal(flags & p.CKF_USER_PIN_LOCKED, 0, "the user PIN is locked");
    });
    const provider = await pkcs11Backend.create("hsm-main", configFor(), contextFor());
    assert.equal((await provider.health()).status, "ok");
    await provider.close();
  });

  test("a PIN from pin_file works; a missing PIN source is misconfigured without a login attempt", async () => {
    const pinFile = join(baseDir, "hsm.pin");
    writeFileSync(pinFile, `${hsm!.pin}\n`, { mode: 0o600 });
    const provider = await pkcs11Backend.create("hsm", configFor({ pin: { file: pinFile } }), contextFor({}));
    const kekId = await provider.createKek("v");
    const binding = aad(kekId);
    assert.equal(Buffer.from(await provider.unwrap(kekId, await provider.wrap(kekId, Buffer.from("x"), binding), binding)).toString(), "x");
    await provider.close();

    const logins = calls.C_Login;
    await assertProviderError(pkcs11Backend.create("hsm", configFor(), contextFor({})), "misconfigured", new RegExp(`environment variable ${PIN_ENV} .* is not set`));
    await assertProviderError(
      pkcs11Backend.create("hsm", configFor({ pin: { file: join(baseDir, "absent.pin") } }), contextFor({})),
      "misconfigured",
      /cannot read pin_file .*absent\.pin \(ENOENT\)/,
    );
    assert.equal(calls.C_Login, logins);
  });

  test("a group-readable pin_file works with a warning", async () => {
    const pinFile = join(baseDir, "loose.pin");
    writeFileSync(pinFile, hsm!.pin);
    chmodSync(pinFile, 0o640);
    const log = captureLogger();
    const provider = await pkcs11Backend.create("hsm", configFor({ pin: { file: pinFile } }), contextFor({}, log));
    await provider.close();
    assert.ok(log.lines.some((l) => /readable by group or others/.test(l)));
  });

  test("an unknown token label is misconfigured, naming the label and the labels present", async () => {
    const logins = calls.C_Login;
    await assertProviderError(
      pkcs11Backend.create("hsm", configFor({ tokenLabel: "no-such-token" }), contextFor()),
      "misconfigured",
      /no token labelled "no-such-token" in the PKCS#11 module .*tokens present: .*"sv-pkcs11-test"/,
    );
    assert.equal(calls.C_Login, logins);
  });

  test("a module that cannot be loaded is misconfigured, naming the path", async () => {
    const missing = join(baseDir, "no-such-module.so");
    await assertProviderError(pkcs11Backend.create("hsm", configFor({ module: missing }), contextFor()), "misconfigured", new RegExp(`cannot load the PKCS#11 module ${missing}`));
  });

  test("pkcs11js missing or unbuilt is misconfigured, saying what to run", async () => {
    await assertProviderError(importPkcs11js("hsm", "pkcs11js-not-installed-for-this-test"), "misconfigured", /pkcs11js, which is not installed or not built.*npm ci.*C\+\+ toolchain/);
  });

  test("two tokens of one module: separate KEKs, and closing one provider leaves the other working", async () => {
    const first = await pkcs11Backend.create("one", configFor(), contextFor());
    const second = await pkcs11Backend.create("two", configFor({ tokenLabel: secondToken!.label }), contextFor({ [PIN_ENV]: secondToken!.pin }));
    try {
      const kekOne = await first.createKek("v1");
      const kekTwo = await second.createKek("v2");
      await assertProviderError(second.wrap(kekOne, randomBytes(32), aad(kekOne)), "misconfigured", /is not in token "sv-pkcs11-second"/);
      await first.close();
      const binding = aad(kekTwo);
      const input = randomBytes(32);
      assert.deepEqual(Buffer.from(await second.unwrap(kekTwo, await second.wrap(kekTwo, input, binding), binding)), input);
      assert.equal((await second.health()).status, "ok");
    } finally {
      await first.close();
      await second.close();
    }
  });

  test("two slots on one token share the login; a second slot with another PIN is refused without a login attempt", async () => {
    const first = await pkcs11Backend.create("one", configFor(), contextFor());
    try {
      const logins = calls.C_Login;
      const second = await pkcs11Backend.create("two", configFor(), contextFor());
      assert.equal(calls.C_Login, logins, "the token was already logged in for this process");
      await assertProviderError(
        pkcs11Backend.create("three", configFor(), contextFor({ [PIN_ENV]: "not-the-pin" })),
        "misconfigured",
        /already logged in by another slot with a different PIN/,
      );
      assert.equal(calls.C_Login, logins);
      const kekId = await second.createKek("v");
      await first.close();
      const binding = aad(kekId);
      assert.equal(Buffer.from(await second.unwrap(kekId, await second.wrap(kekId, Buffer.from("still"), binding), binding)).toString(), "still");
      await second.close();
    } finally {
      await first.close();
    }
  });

  test("after close: calls are unavailable, health says so, a second close is harmless", async () => {
    const provider = await pkcs11Backend.create("hsm", configFor(), contextFor());
    const kekId = await provider.createKek("v");
    await provider.close();
    await provider.close();
    await assertProviderError(provider.wrap(kekId, randomBytes(32), aad(kekId)), "unavailable", /closed/);
    assert.equal((await provider.health()).status, "unavailable");
  });
});

// ---------------------------------------------------------------------------------------------------------
// The configuration file

describe("pkcs11 slots in the configuration file", () => {
  const log = captureLogger();
  let n = 0;
  function load(file: unknown) {
    const path = join(baseDir, `config-${n++}.json`);
    writeFileSync(path, JSON.stringify(file));
    return loadDeployment(readSettings({ SHARDVAULT_CONFIG: path }), {}, log);
  }
  const slot = (fields: Record<string, unknown>) => ({ providers: { hsm: { backend: "pkcs11", ...fields } } });
  const valid = { module: SOFTHSM_MODULE, token_label: "vault-a", pin_env: "HSM_PIN" };

  test("a slot parses to module, token label and PIN source; relative paths resolve from the file's folder", () => {
    const deployment = load(slot(valid));
    assert.equal(deployment.slots[0]!.backend, pkcs11Backend);
    assert.deepEqual(deployment.slots[0]!.config, { module: SOFTHSM_MODULE, tokenLabel: "vault-a", pin: { env: "HSM_PIN" } });
    const relative = load(slot({ module: "lib/module.so", token_label: "vault-a", pin_file: "secrets/hsm.pin" }));
    assert.deepEqual(relative.slots[0]!.config, {
      module: join(baseDir, "lib/module.so"),
      tokenLabel: "vault-a",
      pin: { file: join(baseDir, "secrets/hsm.pin") },
    });
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ["an unknown key", { ...valid, slot_id: 3 }, /providers\.hsm: unknown key "slot_id" for backend pkcs11/],
    ["a missing module", { token_label: "vault-a", pin_env: "HSM_PIN" }, /providers\.hsm\.module must be a non-empty string/],
    ["a missing token label", { module: SOFTHSM_MODULE, pin_env: "HSM_PIN" }, /providers\.hsm\.token_label must be a non-empty string/],
    ["a token label over 32 bytes", { ...valid, token_label: "x".repeat(33) }, /token_label must be at most 32 bytes/],
    ["both pin_env and pin_file", { ...valid, pin_file: "/etc/hsm.pin" }, /exactly one of "pin_env".*"pin_file"/],
    ["neither pin_env nor pin_file", { module: SOFTHSM_MODULE, token_label: "vault-a" }, /exactly one of "pin_env".*"pin_file"/],
    ["a pin_env that is not a variable name", { ...valid, pin_env: "HSM PIN" }, /providers\.hsm\.pin_env must name an environment variable/],
  ];
  for (const [what, fields, message] of refusals) {
    test(`refuses ${what}`, () => {
      assert.throws(() => load(slot(fields)), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }

  test("refuses a PIN written into the file, without repeating it", () => {
    const pin = "7431-9852-the-pin";
    assert.throws(
      () => load(slot({ ...valid, pin })),
      (error: unknown) => error instanceof ConfigError && /the PIN never goes in the configuration file/.test(error.message) && !error.message.includes(pin),
    );
  });

  test("two slots on one module and token are one trust domain: refused unless allow_shared_trust_domain", () => {
    const two = {
      providers: {
        a: { backend: "pkcs11", ...valid },
        b: { backend: "pkcs11", ...valid, pin_env: "OTHER_PIN" },
      },
    };
    assert.throws(() => load(two), (error: unknown) => error instanceof ConfigError && /slots a and b resolve to the same trust domain/.test(error.message));
    assert.equal(load({ ...two, allow_shared_trust_domain: true }).sharedTrustDomain, true);
  });

  test("the trust domain is the module's real path: a symlink or another spelling of the same module is the same domain", () => {
    const real = join(baseDir, "libreal.so");
    writeFileSync(real, "");
    const link = join(baseDir, "liblink.so");
    symlinkSync(real, link);
    const pair = (moduleB: string) => ({
      providers: {
        a: { backend: "pkcs11", ...valid, module: real },
        b: { backend: "pkcs11", ...valid, module: moduleB },
      },
    });
    for (const other of [link, join(baseDir, "sub", "..", "libreal.so"), "./libreal.so"]) {
      assert.throws(() => load(pair(other)), /same trust domain/, other);
    }
  });

  test("another token on the same module, or another module, is another trust domain", () => {
    const deployment = load({
      providers: {
        a: { backend: "pkcs11", ...valid },
        b: { backend: "pkcs11", ...valid, token_label: "vault-b" },
        c: { backend: "pkcs11", ...valid, module: join(baseDir, "other.so") },
      },
    });
    assert.equal(deployment.sharedTrustDomain, false);
    assert.deepEqual(
      deployment.slots.map((s) => s.slot),
      ["a", "b", "c"],
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The server with the HSM as its default provider

const pgSkip = skip ? false : await postgresSkipReason();

describe("the server with a pkcs11 default provider, on PostgreSQL", { skip: skip || pgSkip }, () => {
  test("PUT then GET a secret, and GET it again after a restart; the output holds no PIN and no value", async () => {
    // A token of its own, for the server process only.
    const token = makeSoftHsm({ label: "sv-server", setEnv: false });
    const dir = mkdtempSync(join(tmpdir(), "sv-pkcs11-server-"));
    try {
      const configFile = join(dir, "shardvault.json");
      writeFileSync(
        configFile,
        JSON.stringify({
          default_provider: "hsm",
          providers: { hsm: { backend: "pkcs11", module: token.module, token_label: token.label, pin_env: "SV_HSM_PIN" } },
        }),
      );
      const env = { SHARDVAULT_CONFIG: configFile, SV_HSM_PIN: token.pin, SOFTHSM2_CONF: token.conf };
      const deployment = await deploy("postgres", { env });
      try {
        const admin = api(deployment.server.url, deployment.server.adminKey);
        const vault = await admin.post("/v1/vaults", { name: "hsm-backed" });
        assert.equal(vault.status, 201, vault.text);
        const value = secretValue("hsm");
        const put = await admin.put(`/v1/vaults/${vault.body.id}/secrets/db/password`, { value });
        assert.equal(put.status, 201, put.text);
        const got = await admin.get(`/v1/vaults/${vault.body.id}/secrets/db/password`);
        assert.equal(got.status, 200, got.text);
        assert.equal(got.body.value, value);

        const health = await admin.get("/v1/health/hsm");
        assert.deepEqual(
          health.body.providers.map((p: { slot: string; backend: string; status: string; development: boolean }) => [p.slot, p.backend, p.status, p.development]),
          [["hsm", "pkcs11", "ok", false]],
        );
        const row = await withClient(deployment.database!.url, (c) => c.query("SELECT kek_slot, kek_id FROM vaults WHERE id = $1", [vault.body.id]));
        assert.equal(row.rows[0].kek_slot, "hsm");
        assert.match(row.rows[0].kek_id, /^pkcs11:[0-9a-f-]{36}$/);

        await deployment.server.stop();
        const restarted = await deployment.restart({ env });
        const again = await api(restarted.url, restarted.adminKey).get(`/v1/vaults/${vault.body.id}/secrets/db/password`);
        assert.equal(again.status, 200, again.text);
        assert.equal(again.body.value, value);
        await restarted.stop();

        for (const server of deployment.servers) {
          // A JSON log line: the token label comes with its quotes escaped.
          assert.match(server.output(), /logged in to token \\"sv-server\\"/);
          assertNoLeak(server.output(), [value, token.pin, token.soPin]);
        }
      } finally {
        await deployment.dispose();
      }
    } finally {
      await token.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a wrong PIN stops start-up with a message naming the slot, not the PIN", async () => {
    const token = makeSoftHsm({ label: "sv-server-pin", setEnv: false });
    const dir = mkdtempSync(join(tmpdir(), "sv-pkcs11-server-"));
    try {
      const configFile = join(dir, "shardvault.json");
      writeFileSync(
        configFile,
        JSON.stringify({ providers: { vault: { backend: "pkcs11", module: token.module, token_label: token.label, pin_env: "SV_HSM_PIN" } } }),
      );
      const wrongPin = `wrong-${randomBytes(6).toString("hex")}`;
      const env = { SHARDVAULT_CONFIG: configFile, SV_HSM_PIN: wrongPin, SOFTHSM2_CONF: token.conf };
      const error = await deploy("postgres", { env }).then(
        async (d) => {
          await d.dispose();
          throw new Error("the server started with a wrong PIN");
        },
        (e: unknown) => e as Error & { output: string },
      );
      assert.match(error.output, /ERROR: vault: login to token "sv-server-pin" .* refused: CKR_PIN_INCORRECT/);
      assert.ok(!error.output.includes(wrongPin) && !error.output.includes(token.pin), "the output holds a PIN");
    } finally {
      await token.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
