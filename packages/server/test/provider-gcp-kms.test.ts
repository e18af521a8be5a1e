/**
 * The gcp-kms backend through the official @google-cloud/kms client (its HTTP/1.1 REST transport), against a
 * local peer speaking the Cloud KMS REST protocol over loopback: conformance, faults, configuration, and
 * the server on PostgreSQL with gcp-kms as its default provider.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { test } from "node:test";
import { gcpKmsBackend } from "../src/providers/gcp-kms.js";
import { postgresSkipReason } from "./support/postgres.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "./support/peers/gcp-kms-peer.js";
import {
  assertKind,
  describeCloudProviderFaults,
  describeConfigRefusals,
  describeServerWithDefaultProvider,
  providerFrom,
} from "./support/peers/cloud-suites.js";
import { describeProviderConformance } from "./support/provider-conformance.js";

const FAST_RETRIES = { retryBaseMs: 10 };

describeProviderConformance("gcp-kms (SDK REST transport → loopback Cloud KMS peer)", async () => {
  const peer = await startGcpKmsPeer();
  return { provider: await providerFrom(gcpKmsBackend, "gcp", gcpKmsSlotConfig(peer)), cleanup: () => peer.stop() };
});

describeCloudProviderFaults(
  "gcp-kms",
  async () => {
    const peer = await startGcpKmsPeer();
    return {
      peer,
      provider: await providerFrom(gcpKmsBackend, "gcp", gcpKmsSlotConfig(peer), FAST_RETRIES),
      refusedCredentials: () => providerFrom(gcpKmsBackend, "gcp", { ...gcpKmsSlotConfig(peer), env: { SV_PEER_GCP_TOKEN: "ya29.not-the-token" } }, FAST_RETRIES),
      wrapOperation: "Encrypt",
      disableKek: (kekId) => peer.disableKey(kekId),
      cleanup: () => peer.stop(),
    };
  },
  (get) => {
    test("the peer refuses a request without a bearer token, as Cloud KMS does", async () => {
      const { peer } = get();
      const res = await fetch(`${peer.url}/v1/${peer.keyRingName}`);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { status: string } }).error.status, "UNAUTHENTICATED");
    });

    test("every KEK is its own CryptoKey; a create whose answer was lost finds its key instead of making another", { timeout: 60_000 }, async () => {
      const { provider, peer } = get();
      const vaultId = randomUUID();
      const keys = peer.keyCount();
      const creates = peer.count("CreateCryptoKey");
      await peer.fault({ loseAnswer: 1 });
      const first = await provider.createKek(vaultId);
      assert.equal(peer.count("CreateCryptoKey"), creates + 2, "the retry re-sent the same create, answered ALREADY_EXISTS");
      assert.equal(peer.keyCount(), keys + 1, "one CryptoKey for one KEK");
      assert.match(first, new RegExp(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/sv-${vaultId}-[0-9a-f]{12}$`));
      const second = await provider.createKek(vaultId);
      assert.notEqual(second, first, "the vault's next KEK is another CryptoKey");
      assert.equal(peer.keyCount(), keys + 2);
    });

    test("a KEK id that is not a CryptoKey resource name is refused before any call", { timeout: 60_000 }, async () => {
      const { provider, peer } = get();
      const before = peer.count();
      await assertKind(provider.wrap("not/a/key", randomBytes(32), Buffer.from("aad")), "misconfigured");
      assert.equal(peer.count(), before);
    });

    test("a key ring that does not exist is a misconfiguration", { timeout: 60_000 }, async () => {
      const { peer } = get();
      const elsewhere = await providerFrom(gcpKmsBackend, "gcp", gcpKmsSlotConfig(peer, { key_ring: "missing-ring" }), FAST_RETRIES);
      try {
        await assertKind(elsewhere.createKek(randomUUID()), "misconfigured");
        assert.equal((await elsewhere.health()).status, "unavailable");
      } finally {
        await elsewhere.close();
      }
    });
  },
);

test("gcp-kms with the shared strategy uses the configured CryptoKey for every vault", async () => {
  const peer = await startGcpKmsPeer();
  try {
    const setup = await providerFrom(gcpKmsBackend, "gcp", gcpKmsSlotConfig(peer));
    const name = await setup.createKek("shared-key");
    await setup.close();
    const keyName = name.slice(name.lastIndexOf("/") + 1);
    const shared = await providerFrom(gcpKmsBackend, "gcp", gcpKmsSlotConfig(peer, { kek_strategy: "shared", key_name: keyName }));
    const before = peer.keyCount();
    assert.equal(await shared.createKek(randomUUID()), name);
    assert.equal(peer.keyCount(), before);
    const input = randomBytes(32);
    assert.deepEqual(Buffer.from(await shared.unwrap(name, await shared.wrap(name, input, Buffer.from("b")), Buffer.from("b"))), input);
    assert.equal((await shared.health()).status, "ok");
    // Disabling "a vault's KEK" leaves the shared key alone: every other vault still uses it.
    await shared.disableKek!(name);
    assert.deepEqual(Buffer.from(await shared.unwrap(name, await shared.wrap(name, input, Buffer.from("c")), Buffer.from("c"))), input);
    await shared.close();
  } finally {
    await peer.stop();
  }
});

const VALID = {
  fields: { project: "acme-prod", location: "europe-west1", key_ring: "shardvault", endpoint: "127.0.0.1:8443", access_token_env: "GT" },
  env: { GT: "ya29.example" },
};
describeConfigRefusals("gcp-kms", {
  valid: VALID,
  shared: { ...VALID, fields: { ...VALID.fields, kek_strategy: "shared", key_name: "shardvault-kek" } },
  refused: {
    "an unknown key": { fields: { ...VALID.fields, keyring: "x" }, error: /unknown key "keyring"/ },
    "a missing project": { fields: { location: "global", key_ring: "r" }, error: /project must be a non-empty string/ },
    "a missing key ring": { fields: { project: "p", location: "global" }, error: /key_ring must be a non-empty string/ },
    "a key ring given as a path": { fields: { ...VALID.fields, key_ring: "projects/p/locations/l/keyRings/r" }, error: /not a path/ },
    "the shared strategy without key_name": { fields: { ...VALID.fields, kek_strategy: "shared" }, error: /key_name is required/ },
    "key_name with per-vault KEKs": { fields: { ...VALID.fields, key_name: "k" }, error: /key_name is only allowed with "kek_strategy": "shared"/ },
    "an endpoint that is not host:port": { fields: { ...VALID.fields, endpoint: "http://127.0.0.1:8443" }, error: /host:port/ },
    "an unknown transport": { fields: { ...VALID.fields, transport: "http2" }, error: /transport must be one of grpc, rest/ },
    "credentials_file and access_token_env together": { fields: { ...VALID.fields, credentials_file: "sa.json" }, error: /not both/ },
    "a token variable that is not set": { fields: VALID.fields, env: {}, error: /GT, which is not set/ },
  },
});

describeServerWithDefaultProvider("gcp-kms", await postgresSkipReason(), async () => {
  const peer = await startGcpKmsPeer();
  return {
    peer,
    backend: "gcp-kms",
    slot: gcpKmsSlotConfig(peer),
    secrets: [peer.token],
    operations: { createKek: "CreateCryptoKey", wrap: "Encrypt", unwrap: "Decrypt" },
  };
});
