/**
 * The azure-keyvault backend the way production runs it: an `https://` vault URL, so the SDK verifies the
 * server's certificate and, when the vault challenges it, that the challenge's resource matches the vault's
 * domain (challenge resource verification on; it is off only for plain-http peers on loopback).
 *
 * The server runs as a child process with its default slot on `https://shardvault.vault.test` — a local TLS
 * peer whose certificate a CA made for this run signs (trusted through NODE_EXTRA_CA_CERTS), reached through a
 * local CONNECT proxy (HTTPS_PROXY) that tunnels that name to the peer:
 *
 * - the vault challenges with resource `https://vault.test`: the SDK verifies it, fetches a token, and vaults
 *   and secrets work over TLS;
 * - a challenge naming another resource (`https://vault.azure.net`) is refused by the SDK: the server does not
 *   start (its default slot cannot wrap the signing key), says why, and the token never reaches the vault;
 * - without the CA trusted, the TLS handshake fails: the certificate is checked.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, makeTempDir, secretValue, ServerStartError, startServer, type ServerHandle } from "./support/harness.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer, type AzureKeyVaultPeer } from "./support/peers/azure-keyvault-peer.js";
import { startConnectProxy, type ConnectProxy } from "./support/peers/connect-proxy.js";
import { testCertificates, type TestCertificates } from "./support/peers/tls.js";

const HOST = "shardvault.vault.test";
const VAULT_URL = `https://${HOST}`;

describe("azure-keyvault over TLS with the SDK's challenge resource verification on", () => {
  let certificates: TestCertificates;
  const running: Array<{ stop(): Promise<unknown> }> = [];

  before(() => {
    certificates = testCertificates(HOST);
  });
  after(async () => {
    for (const thing of running.reverse()) await thing.stop();
  });

  /** A TLS peer challenging with `resource`, a proxy to it, and the server's environment for both. */
  async function vaultBehindProxy(resource: string): Promise<{ peer: AzureKeyVaultPeer; proxy: ConnectProxy; env: Record<string, string> }> {
    const peer = await startAzureKeyVaultPeer({ resource, tls: { key: certificates.key, cert: certificates.cert, vaultUrl: VAULT_URL } });
    running.push(peer);
    const proxy = await startConnectProxy({ [HOST]: peer.port });
    running.push(proxy);
    // oct-HSM keys (A256KW): an RSA slot cannot be the default provider.
    const slot = azureKeyVaultSlotConfig(peer, { key_type: "oct-HSM" });
    assert.equal(slot.fields.vault_url, VAULT_URL);
    const config = join(makeTempDir("shardvault-azure-tls-"), "shardvault.json");
    writeFileSync(config, JSON.stringify({ default_provider: "azure", deadline_ms: 30_000, providers: { azure: { backend: "azure-keyvault", ...slot.fields } } }));
    const env = { SHARDVAULT_CONFIG: config, ...slot.env, NODE_EXTRA_CA_CERTS: certificates.caFile, HTTPS_PROXY: proxy.url, NO_PROXY: "" };
    return { peer, proxy, env };
  }

  async function startFailure(env: Record<string, string>): Promise<ServerStartError> {
    let server: ServerHandle | undefined;
    try {
      server = await startServer({ database: "pglite", env });
    } catch (error) {
      assert.ok(error instanceof ServerStartError, String(error));
      return error;
    }
    await server.stop();
    assert.fail("the server started");
  }

  test("the vault's challenge names its own domain: verified, a token fetched, secrets written and read over TLS", { timeout: 120_000 }, async () => {
    const { peer, proxy, env } = await vaultBehindProxy("https://vault.test");
    const server = await startServer({ database: "pglite", env });
    running.push(server);
    const admin = api(server.url, server.adminKey);
    const vault = await admin.post("/v1/vaults", { name: "azure over tls" });
    assert.equal(vault.status, 201, vault.text);
    const value = secretValue("azure-tls");
    const put = await admin.put(`/v1/vaults/${vault.body.id}/secrets/tls/one`, { value });
    assert.equal(put.status, 201, put.text);
    const read = await admin.get(`/v1/vaults/${vault.body.id}/secrets/tls/one`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.value, value);

    assert.ok(peer.unauthenticated >= 1, "the SDK never went through the vault's challenge");
    assert.ok(peer.count("WrapKey") >= 1 && peer.count("UnwrapKey") >= 1, "wrap and unwrap reached the vault");
    assert.ok(proxy.requested.length >= 1 && proxy.requested.every((target) => target === `${HOST}:443`), proxy.requested.join(", "));
    await server.stop();
    assertNoLeak(server.output(), [value, server.adminKey, peer.token]);
  });

  test("a challenge naming another resource is refused by the SDK: no start, the reason said, the token never sent", { timeout: 120_000 }, async () => {
    const { peer, env } = await vaultBehindProxy("https://vault.azure.net");
    const failure = await startFailure(env);
    assert.match(failure.output, /challenge resource 'vault\.azure\.net' does not match the requested domain/);
    assert.ok(peer.unauthenticated >= 1, "the vault was never asked");
    assert.equal(peer.count(), peer.unauthenticated, "a request carried the token to a vault whose challenge named another resource");
    assertNoLeak(failure.output, [peer.token]);
  });

  test("without the test CA trusted, the TLS handshake fails and the server does not start", { timeout: 120_000 }, async () => {
    const { peer, env } = await vaultBehindProxy("https://vault.test");
    const { NODE_EXTRA_CA_CERTS: _trusted, ...untrusted } = env;
    const failure = await startFailure(untrusted);
    assert.match(failure.output, /azure: createKey failed: RestError: unable to verify the first certificate/);
    assert.equal(peer.count(), 0, "a request was served over a connection the server should not have trusted");
  });
});
