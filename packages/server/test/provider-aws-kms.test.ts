/**
 * The aws-kms backend through the official @aws-sdk/client-kms, against a local peer speaking the KMS wire
 * protocol (AWS JSON 1.1, SigV4-verified) over loopback: conformance, faults, configuration, and the server
 * on PostgreSQL with aws-kms as its default provider.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { test } from "node:test";
import { awsKmsBackend } from "../src/providers/aws-kms.js";
import { postgresSkipReason } from "./support/postgres.js";
import { awsKmsSlotConfig, startAwsKmsPeer } from "./support/peers/aws-kms-peer.js";
import {
  assertKind,
  describeCloudProviderFaults,
  describeConfigRefusals,
  describeServerWithDefaultProvider,
  providerFrom,
} from "./support/peers/cloud-suites.js";
import { describeProviderConformance } from "./support/provider-conformance.js";

const FAST_RETRIES = { retryBaseMs: 10 };

describeProviderConformance("aws-kms (SDK → loopback KMS peer)", async () => {
  const peer = await startAwsKmsPeer();
  return { provider: await providerFrom(awsKmsBackend, "aws", awsKmsSlotConfig(peer)), cleanup: () => peer.stop() };
});

describeCloudProviderFaults(
  "aws-kms",
  async () => {
    const peer = await startAwsKmsPeer();
    return {
      peer,
      provider: await providerFrom(awsKmsBackend, "aws", awsKmsSlotConfig(peer), FAST_RETRIES),
      refusedCredentials: async () => {
        const slot = awsKmsSlotConfig(peer);
        return providerFrom(awsKmsBackend, "aws", { ...slot, env: { ...slot.env, SV_PEER_AWS_SECRET_ACCESS_KEY: "not-the-secret" } }, FAST_RETRIES);
      },
      wrapOperation: "Encrypt",
      disableKek: (kekId) => peer.disableKey(kekId),
      cleanup: () => peer.stop(),
    };
  },
  (get) => {
    test("the peer refuses a request without a SigV4 signature, as KMS does", async () => {
      const { peer } = get();
      const res = await fetch(peer.url, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.ListKeys" },
        body: "{}",
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { __type: string }).__type, "MissingAuthenticationTokenException");
    });

    test("an access key the peer does not know is a misconfiguration", { timeout: 60_000 }, async () => {
      const { peer, kekId } = get();
      const slot = awsKmsSlotConfig(peer);
      const stranger = await providerFrom(awsKmsBackend, "aws", { ...slot, env: { ...slot.env, SV_PEER_AWS_ACCESS_KEY_ID: "AKIAUNKNOWNUNKNOWN00" } });
      try {
        await assertKind(stranger.wrap(kekId, randomBytes(32), Buffer.from("aad")), "misconfigured");
      } finally {
        await stranger.close();
      }
    });

    test("the binding travels as a digest in the EncryptionContext: the same bytes under another context fail", { timeout: 60_000 }, async () => {
      const { provider, kekId } = get();
      const wrapped = await provider.wrap(kekId, randomBytes(32), Buffer.from("context A"));
      await assertKind(provider.unwrap(kekId, wrapped, Buffer.from("context B")), "integrity");
      // another KMS key named for the same ciphertext: KMS's IncorrectKeyException
      const other = await provider.createKek(randomUUID());
      await assertKind(provider.unwrap(other, wrapped, Buffer.from("context A")), "integrity");
    });
  },
);

test("aws-kms with the shared strategy returns the configured key for every vault and creates none", async () => {
  const peer = await startAwsKmsPeer();
  try {
    const setupProvider = await providerFrom(awsKmsBackend, "aws", awsKmsSlotConfig(peer));
    const keyId = await setupProvider.createKek("bootstrap");
    await setupProvider.close();
    const shared = await providerFrom(awsKmsBackend, "aws", awsKmsSlotConfig(peer, { kek_strategy: "shared", key_id: keyId }));
    const before = peer.keyCount();
    assert.equal(await shared.createKek(randomUUID()), keyId);
    assert.equal(await shared.createKek(randomUUID()), keyId);
    assert.equal(peer.keyCount(), before);
    const input = randomBytes(32);
    assert.deepEqual(Buffer.from(await shared.unwrap(keyId, await shared.wrap(keyId, input, Buffer.from("b")), Buffer.from("b"))), input);
    assert.equal((await shared.health()).status, "ok");
    // Disabling "a vault's KEK" leaves the shared key alone: every other vault still uses it.
    await shared.disableKek!(keyId);
    assert.deepEqual(Buffer.from(await shared.unwrap(keyId, await shared.wrap(keyId, input, Buffer.from("c")), Buffer.from("c"))), input);
    await shared.close();
  } finally {
    await peer.stop();
  }
});

const VALID = { fields: { region: "eu-west-1", endpoint: "http://127.0.0.1:4566", access_key_id_env: "AK", secret_access_key_env: "SK" }, env: { AK: "AKIAEXAMPLE", SK: "secret" } };
describeConfigRefusals("aws-kms", {
  valid: VALID,
  shared: { ...VALID, fields: { ...VALID.fields, kek_strategy: "shared", key_id: "alias/shardvault" } },
  refused: {
    "an unknown key": { fields: { ...VALID.fields, regoin: "eu-west-1" }, error: /unknown key "regoin"/ },
    "a missing region": { fields: { endpoint: "http://127.0.0.1:4566" }, error: /region must be a non-empty string/ },
    "the shared strategy without key_id": { fields: { ...VALID.fields, kek_strategy: "shared" }, error: /key_id is required/ },
    "key_id with per-vault KEKs": { fields: { ...VALID.fields, key_id: "alias/x" }, error: /key_id is only allowed with "kek_strategy": "shared"/ },
    "key_id with the default strategy named": { fields: { ...VALID.fields, kek_strategy: "per-vault", key_id: "alias/x" }, error: /only allowed/ },
    "an unknown strategy": { fields: { ...VALID.fields, kek_strategy: "per-secret" }, error: /kek_strategy must be one of/ },
    "an access key variable without the secret one": { fields: { region: "eu-west-1", access_key_id_env: "AK" }, error: /together/ },
    "a credential variable that is not set": { fields: VALID.fields, env: { AK: "AKIAEXAMPLE" }, error: /SK, which is not set/ },
    "plain http to a host that is not loopback": { fields: { ...VALID.fields, endpoint: "http://kms.example.com" }, error: /https/ },
    "max_retries out of range": { fields: { ...VALID.fields, max_retries: 50 }, error: /max_retries/ },
  },
});

describeServerWithDefaultProvider("aws-kms", await postgresSkipReason(), async () => {
  const peer = await startAwsKmsPeer();
  return {
    peer,
    backend: "aws-kms",
    slot: awsKmsSlotConfig(peer),
    secrets: [peer.secretAccessKey],
    operations: { createKek: "CreateKey", wrap: "Encrypt", unwrap: "Decrypt" },
  };
});
