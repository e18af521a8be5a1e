/**
 * The azure-keyvault backend through the official @azure/keyvault-keys clients, against a local peer
 * speaking the Key Vault keys REST protocol over loopback (with the 401 challenge the service sends first):
 * conformance for RSA (RSA-OAEP-256) and oct-HSM (A256KW) keys, faults (of the vault's wrap and unwrap, with
 * oct-HSM keys, whose wraps the vault makes), RSA wraps made with the public key (no wrap request; the key read
 * once per key version, checked against the KEK's id, re-checked after its interval), the digest binding,
 * configuration (an RSA slot cannot be the default provider), and the server on PostgreSQL with an
 * azure-keyvault oct-HSM key as its default provider.
 */
import assert from "node:assert/strict";
import { createHash, createPublicKey, publicEncrypt, constants, randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { azureKeyVaultBackend, createAzureKeyVaultProvider } from "../src/providers/azure-keyvault.js";
import { PUBLIC_KEY_RECHECK_MS } from "../src/providers/azure-public-keys.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { makeTempDir } from "./support/harness.js";
import { postgresSkipReason } from "./support/postgres.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer, type AzureKeyVaultPeer } from "./support/peers/azure-keyvault-peer.js";
import {
  assertKind,
  describeCloudProviderFaults,
  describeConfigRefusals,
  describeServerWithDefaultProvider,
  loadConfig,
  providerFrom,
  silentLog,
} from "./support/peers/cloud-suites.js";
import { describeProviderConformance } from "./support/provider-conformance.js";

const FAST_RETRIES = { retryBaseMs: 10 };
/**
 * RSA key generation at the peer dominates these tests' time (~0.9 s per 3072-bit key here, ~0.15 s at 2048):
 * the conformance suite runs the default (3072, needed for its 200-byte inputs); the suites that wrap only
 * 32–48-byte keys use 2048-bit keys, which also runs the key_size option end to end.
 */
const SMALL_RSA = { key_size: 2048 };

describeProviderConformance("azure-keyvault RSA (SDK → loopback Key Vault peer)", async () => {
  const peer = await startAzureKeyVaultPeer();
  return { provider: await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer)), cleanup: () => peer.stop() };
});

describeProviderConformance("azure-keyvault oct-HSM (SDK → loopback Key Vault peer)", async () => {
  const peer = await startAzureKeyVaultPeer({ resource: "https://managedhsm.azure.net" });
  return {
    provider: await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer, { key_type: "oct-HSM" })),
    cleanup: () => peer.stop(),
  };
});

const OCT = { key_type: "oct-HSM" };

describeCloudProviderFaults(
  "azure-keyvault oct-HSM",
  async () => {
    const peer = await startAzureKeyVaultPeer();
    return {
      peer,
      provider: await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer, OCT), FAST_RETRIES),
      refusedCredentials: () =>
        providerFrom(azureKeyVaultBackend, "azure", { ...azureKeyVaultSlotConfig(peer, OCT), env: { SV_PEER_AZURE_TOKEN: "eyJ.not-the-token" } }, FAST_RETRIES),
      wrapOperation: "WrapKey",
      disableKek: (kekId) => peer.disableKey(kekId.split("/")[0]!),
      cleanup: () => peer.stop(),
    };
  },
  (get) => {
    test("the peer answers a request without a token with the Key Vault challenge", async () => {
      const { peer } = get();
      const res = await fetch(`${peer.vaultUrl}/keys?api-version=7.6`);
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"$/);
    });

    test("the SDK's challenge flow ran: the first request went without a token and got the 401 challenge", async () => {
      const { peer } = get();
      assert.ok(peer.unauthenticated >= 1, "the peer answered at least one request without a token with its challenge");
    });

    test("a fresh client goes through the challenge exactly once, then sends its token", { timeout: 60_000 }, async () => {
      const { peer, kekId } = get();
      const fresh = await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer, OCT), FAST_RETRIES);
      try {
        const challenged = peer.unauthenticated;
        const input = randomBytes(32);
        const wrapped = await fresh.wrap(kekId, input, Buffer.from("aad"));
        assert.deepEqual(Buffer.from(await fresh.unwrap(kekId, wrapped, Buffer.from("aad"))), input);
        await fresh.health();
        assert.equal(peer.unauthenticated, challenged + 1);
      } finally {
        await fresh.close();
      }
    });

    test("a share wrapped by the provider for another binding is rejected by the digest check", { timeout: 60_000 }, async () => {
      const { provider, peer, kekId } = get();
      const wrapped = await provider.wrap(kekId, randomBytes(32), Buffer.from("binding B"));
      const unwraps = peer.count("UnwrapKey");
      await assertKind(provider.unwrap(kekId, wrapped, Buffer.from("binding A")), "integrity");
      assert.equal(peer.count("UnwrapKey"), unwraps + 1, "the vault unwrapped it; the digest refused it");
    });
  },
);

describe("azure-keyvault RSA: wraps made with the key's public key, unwraps by the vault", () => {
  const TEST = { timeout: 60_000 };
  const aad = Buffer.from("binding: vault v1, path p, version 1");
  let peer: AzureKeyVaultPeer;
  let provider: KeyProvider;
  let kekId: string;
  const fresh = (opts: { now?: () => number } = {}) => {
    const { fields, env } = azureKeyVaultSlotConfig(peer, SMALL_RSA);
    const ctx = { env, log: silentLog, configDir: process.cwd() };
    return createAzureKeyVaultProvider("azure", { ...azureKeyVaultBackend.parse("azure", fields, ctx), retryBaseMs: 10 }, env, opts);
  };

  before(async () => {
    peer = await startAzureKeyVaultPeer();
    provider = await fresh();
    kekId = await provider.createKek(randomUUID());
  });
  afterEach(() => peer.reset());
  after(async () => {
    await provider?.close();
    await peer?.stop();
  });

  test("no wrap request reaches the vault: the key version's public key came with its creation; unwraps are the vault's", TEST, async () => {
    peer.resetCounts();
    const inputs = [randomBytes(32), randomBytes(33), randomBytes(48)];
    const wrapped = await Promise.all(inputs.map((input) => provider.wrap(kekId, input, aad)));
    assert.equal(peer.count("WrapKey"), 0);
    assert.equal(peer.count("GetKey"), 0);
    for (const [i, w] of wrapped.entries()) assert.deepEqual(Buffer.from(await provider.unwrap(kekId, w, aad)), inputs[i]);
    assert.equal(peer.count("UnwrapKey"), inputs.length);
    assert.notDeepEqual(Buffer.from(await provider.wrap(kekId, inputs[0]!, aad)), Buffer.from(wrapped[0]!), "OAEP padding is random");
  });

  test("a KEK made elsewhere: its public key is read once per key version, then wraps cost no request", TEST, async () => {
    const other = await fresh();
    try {
      await other.health(); // the client's first request meets the authentication challenge
      peer.resetCounts();
      for (let i = 0; i < 5; i++) await other.wrap(kekId, randomBytes(32), aad);
      assert.deepEqual([peer.count("GetKey"), peer.count("WrapKey")], [1, 0]);
    } finally {
      await other.close();
    }
  });

  test("reading the public key is retried like any call: throttling, then success", TEST, async () => {
    const other = await fresh();
    try {
      await other.health(); // the client's first request meets the authentication challenge
      peer.resetCounts();
      await peer.fault({ throttle: 2 });
      const input = randomBytes(32);
      const wrapped = await other.wrap(kekId, input, aad);
      assert.equal(peer.count("GetKey"), 3);
      assert.deepEqual(Buffer.from(await provider.unwrap(kekId, wrapped, aad)), input);
    } finally {
      await other.close();
    }
  });

  test("a public key the vault gives for another key version is refused, and nothing is wrapped with it", TEST, async () => {
    const elsewhere = await provider.createKek(randomUUID());
    peer.substituteKey(kekId, elsewhere);
    const other = await fresh();
    try {
      await assertKind(other.wrap(kekId, randomBytes(32), aad), "misconfigured");
      // Still refused, asked again each time: nothing was remembered.
      peer.resetCounts();
      await assertKind(other.wrap(kekId, randomBytes(32), aad), "misconfigured");
      assert.equal(peer.count("GetKey"), 1);
    } finally {
      await other.close();
      peer.substituteKey(kekId, kekId);
    }
  });

  test("disableKek stops local wraps at once; a key disabled in the vault by hand, once its attributes are re-read", TEST, async () => {
    let clock = Date.now();
    const timed = await fresh({ now: () => clock });
    try {
      const viaProvider = await timed.createKek(randomUUID());
      await timed.wrap(viaProvider, randomBytes(32), aad);
      await timed.disableKek!(viaProvider);
      await assertKind(timed.wrap(viaProvider, randomBytes(32), aad), "misconfigured");

      const byHand = await timed.createKek(randomUUID());
      const wrapped = await timed.wrap(byHand, randomBytes(32), aad);
      peer.disableKey(byHand.split("/")[0]!);
      await assertKind(timed.unwrap(byHand, wrapped, aad), "misconfigured");
      clock += PUBLIC_KEY_RECHECK_MS;
      await assertKind(timed.wrap(byHand, randomBytes(32), aad), "misconfigured");
    } finally {
      await timed.close();
    }
  });

  test("a key version past its expiry date wraps nothing", TEST, async () => {
    let clock = Date.now();
    const timed = await fresh({ now: () => clock });
    try {
      const [name, version] = kekId.split("/") as [string, string];
      // The peer's keys carry no dates: an expiry set at the vault arrives with the next re-read.
      const expires = Math.floor(clock / 1000) + 60;
      await fetch(`${peer.vaultUrl}/keys/${name}/${version}?api-version=7.6`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${peer.token}`, "content-type": "application/json" },
        body: JSON.stringify({ attributes: { exp: expires } }),
      });
      await timed.wrap(kekId, randomBytes(32), aad);
      clock = (expires + 1) * 1000;
      await assertKind(timed.wrap(kekId, randomBytes(32), aad), "misconfigured");
    } finally {
      await timed.close();
    }
  });

  test("the digest check rejects a share wrapped with the public key for another binding", TEST, async () => {
    const [name, version] = kekId.split("/");
    // Anyone can fetch the public key and RSA-OAEP-256-wrap what they like: here a share for binding B.
    const res = await fetch(`${peer.vaultUrl}/keys/${name}/${version}?api-version=7.6`, { headers: { authorization: `Bearer ${peer.token}` } });
    const jwk = ((await res.json()) as { key: { n: string; e: string } }).key;
    const publicKey = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
    const share = randomBytes(33);
    const forge = (binding: string) =>
      publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, Buffer.concat([createHash("sha256").update(binding).digest(), share]));
    await assertKind(provider.unwrap(kekId, forge("binding B"), Buffer.from("binding A")), "integrity");
    // With a matching digest the forgery unwraps: RSA wraps are forgeable, which the envelope knows
    // (azure-rsa-integrity.test.ts: never a DEK from RSA-wrapped material alone).
    assert.deepEqual(Buffer.from(await provider.unwrap(kekId, forge("binding A"), Buffer.from("binding A"))), share);
  });
});

test("azure-keyvault with the shared strategy pins the shared key's current version", async () => {
  const peer = await startAzureKeyVaultPeer();
  try {
    const setup = await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer, SMALL_RSA));
    const first = await setup.createKek("shared");
    await setup.close();
    const [name] = first.split("/");
    const shared = await providerFrom(azureKeyVaultBackend, "azure", azureKeyVaultSlotConfig(peer, { kek_strategy: "shared", key_name: name }));
    const before = peer.keyCount();
    const kekId = await shared.createKek(randomUUID());
    assert.equal(kekId, first);
    assert.equal(peer.keyCount(), before);
    const input = randomBytes(32);
    assert.deepEqual(Buffer.from(await shared.unwrap(kekId, await shared.wrap(kekId, input, Buffer.from("b")), Buffer.from("b"))), input);
    assert.equal((await shared.health()).status, "ok");
    // Disabling "a vault's KEK" leaves the shared key alone: every other vault still uses it.
    await shared.disableKek!(kekId);
    assert.deepEqual(Buffer.from(await shared.unwrap(kekId, await shared.wrap(kekId, input, Buffer.from("c")), Buffer.from("c"))), input);
    await shared.close();
  } finally {
    await peer.stop();
  }
});

// oct-HSM: the configuration suite loads each case as the only slot, hence the default provider, which may
// not be an RSA slot (its wraps can be forged with the public key).
const VALID = { fields: { vault_url: "http://127.0.0.1:8443", access_token_env: "AT", key_type: "oct-HSM" }, env: { AT: "eyJ.example" } };
const PRINCIPAL = {
  fields: { vault_url: "https://acme.vault.azure.net", tenant_id: "acme.onmicrosoft.com", client_id_env: "CID", client_secret_env: "CSECRET", key_type: "oct-HSM" },
  env: { CID: "00000000-0000-0000-0000-000000000000", CSECRET: "s3cret" },
};
describeConfigRefusals("azure-keyvault", {
  valid: VALID,
  shared: { ...VALID, fields: { ...VALID.fields, kek_strategy: "shared", key_name: "shardvault-kek" } },
  refused: {
    "an unknown key": { fields: { ...VALID.fields, vault: "x" }, error: /unknown key "vault"/ },
    "a missing vault_url": { fields: { access_token_env: "AT" }, error: /vault_url must be a non-empty string/ },
    "the shared strategy without key_name": { fields: { ...VALID.fields, kek_strategy: "shared" }, error: /key_name is required/ },
    "key_name with per-vault KEKs": { fields: { ...VALID.fields, key_name: "k" }, error: /key_name is only allowed with "kek_strategy": "shared"/ },
    "a vault URL with a path": { fields: { ...VALID.fields, vault_url: "https://acme.vault.azure.net/keys/k" }, error: /URL alone/ },
    "plain http to a host that is not loopback": { fields: { ...VALID.fields, vault_url: "http://acme.vault.azure.net" }, error: /https/ },
    "half a service principal": { fields: { vault_url: PRINCIPAL.fields.vault_url, tenant_id: "acme.onmicrosoft.com" }, error: /together/ },
    "a service principal and a static token": { fields: { ...PRINCIPAL.fields, access_token_env: "AT" }, env: { ...PRINCIPAL.env, AT: "x" }, error: /not both/ },
    "a client secret variable that is not set": { fields: PRINCIPAL.fields, env: { CID: "id" }, error: /CSECRET, which is not set/ },
    "an unknown key type": { fields: { ...VALID.fields, key_type: "EC" }, error: /key_type must be one of/ },
    "a key size for oct-HSM keys": { fields: { ...VALID.fields, key_type: "oct-HSM", key_size: 2048 }, error: /RSA keys only/ },
    "an RSA key size that is not offered": { fields: { ...VALID.fields, key_type: "RSA", key_size: 1024 }, error: /key_size must be one of/ },
    "an RSA key as the default provider (explicitly)": { fields: { ...VALID.fields, key_type: "RSA" }, error: /cannot be the default provider: its RSA-OAEP wraps/ },
    "an RSA key as the default provider (RSA is the default key type)": { fields: { vault_url: VALID.fields.vault_url, access_token_env: "AT" }, error: /cannot be the default provider/ },
  },
});

test("azure-keyvault: an RSA slot loads beside an authenticated default provider, and is marked forgeable", () => {
  const dir = makeTempDir("sv-azure-rsa-");
  const deployment = loadConfig(
    { default_provider: "hsm", providers: { hsm: { backend: "local", key_file: join(dir, "hsm.key") }, azure: { backend: "azure-keyvault", ...VALID.fields, key_type: "RSA" } } },
    VALID.env,
  );
  const [hsm, azure] = deployment.slots;
  assert.equal(deployment.defaultProvider, "hsm");
  assert.equal(azure!.backend.forgeableWraps?.(azure!.config), true);
  assert.equal(hsm!.backend.forgeableWraps?.(hsm!.config) ?? false, false);
  const octHsm = loadConfig({ providers: { azure: { backend: "azure-keyvault", ...VALID.fields } } }, VALID.env).slots[0]!;
  assert.equal(octHsm.backend.forgeableWraps?.(octHsm.config), false);
});

test("azure-keyvault: a service principal configuration loads (its secret is not in the parsed config)", () => {
  const deployment = loadConfig({ providers: { azure: { backend: "azure-keyvault", ...PRINCIPAL.fields } } }, PRINCIPAL.env);
  assert.equal(deployment.slots[0]!.backend.trustDomain(deployment.slots[0]!.config), "azure-keyvault:https://acme.vault.azure.net");
  assert.ok(!JSON.stringify(deployment.slots[0]!.config).includes(PRINCIPAL.env.CSECRET));
});

// The default provider wraps plain vaults' DEKs and the signing key: an oct-HSM key (A256KW) in a Managed HSM.
describeServerWithDefaultProvider("azure-keyvault", await postgresSkipReason(), async () => {
  const peer = await startAzureKeyVaultPeer({ resource: "https://managedhsm.azure.net" });
  return {
    peer,
    backend: "azure-keyvault",
    slot: azureKeyVaultSlotConfig(peer, { key_type: "oct-HSM" }),
    secrets: [peer.token],
    operations: { createKek: "CreateKey", wrap: "WrapKey", unwrap: "UnwrapKey" },
  };
});
