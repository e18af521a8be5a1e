/**
 * The gcp-kms backend through the official @google-cloud/kms client over its default transport, gRPC, against
 * a local peer serving the Cloud KMS gRPC service (test/support/peers/gcp-kms-grpc-peer.ts; the keys and
 * operations are the REST peer's): conformance, faults, and the server on PostgreSQL with gcp-kms over gRPC
 * as its default provider. Loopback, so the channel is plaintext and the token travels as call metadata.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { gcpKmsBackend } from "../src/providers/gcp-kms.js";
import { postgresSkipReason } from "./support/postgres.js";
import { gcpKmsGrpcSlotConfig, startGcpKmsGrpcPeer } from "./support/peers/gcp-kms-grpc-peer.js";
import { describeCloudProviderFaults, describeServerWithDefaultProvider, providerFrom, silentLog } from "./support/peers/cloud-suites.js";
import { describeProviderConformance } from "./support/provider-conformance.js";

const FAST_RETRIES = { retryBaseMs: 10 };

describeProviderConformance("gcp-kms (SDK gRPC transport → loopback Cloud KMS gRPC peer)", async () => {
  const peer = await startGcpKmsGrpcPeer();
  return { provider: await providerFrom(gcpKmsBackend, "gcp", gcpKmsGrpcSlotConfig(peer)), cleanup: () => peer.stop() };
});

describeCloudProviderFaults("gcp-kms over gRPC", async () => {
  const peer = await startGcpKmsGrpcPeer();
  return {
    peer,
    provider: await providerFrom(gcpKmsBackend, "gcp", gcpKmsGrpcSlotConfig(peer), FAST_RETRIES),
    refusedCredentials: () => providerFrom(gcpKmsBackend, "gcp", { ...gcpKmsGrpcSlotConfig(peer), env: { SV_PEER_GCP_TOKEN: "ya29.not-the-token" } }, FAST_RETRIES),
    wrapOperation: "Encrypt",
    disableKek: (kekId) => peer.disableKey(kekId),
    cleanup: () => peer.stop(),
  };
});

describeServerWithDefaultProvider("gcp-kms over gRPC", await postgresSkipReason(), async () => {
  const peer = await startGcpKmsGrpcPeer();
  return {
    peer,
    backend: "gcp-kms",
    slot: gcpKmsGrpcSlotConfig(peer),
    secrets: [peer.token],
    operations: { createKek: "CreateCryptoKey", wrap: "Encrypt", unwrap: "Decrypt" },
  };
});

test("transport: gRPC unless rest is asked for; only a loopback endpoint goes without TLS", () => {
  const parse = (fields: Record<string, unknown>) =>
    gcpKmsBackend.parse("gcp", { project: "p", location: "l", key_ring: "r", ...fields }, { env: {}, log: silentLog, configDir: process.cwd() });
  assert.equal(parse({}).transport, "grpc");
  assert.equal(parse({}).endpoint, undefined);
  assert.equal(parse({ transport: "rest" }).transport, "rest");
  assert.deepEqual(parse({ endpoint: "127.0.0.1:8443" }).endpoint, { host: "127.0.0.1", port: 8443, loopback: true });
  assert.deepEqual(parse({ endpoint: "localhost:8443", transport: "rest" }).endpoint, { host: "localhost", port: 8443, loopback: true });
  assert.deepEqual(parse({ endpoint: "kms.internal.example:443" }).endpoint, { host: "kms.internal.example", port: 443, loopback: false });
});
