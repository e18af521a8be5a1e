/**
 * RSA-wrapped material carries no integrity: anyone holding an Azure RSA KEK's public key can RSA-OAEP-wrap
 * `sha256(binding) || a DEK of their choice`, and with that DEK compute a matching commitment and ciphertext.
 * The server on PostgreSQL with two local slots (gcp, aws) and two Azure RSA slots (each its own loopback Key
 * Vault peer), SQL from the test playing someone who can write the database:
 *
 * - enabling MPC (or creating an MPC vault) whose RSA slots alone would rebuild a DEK is 400
 *   unauthenticated_quorum; one RSA slot among authenticated ones is accepted, and so are two in strict client
 *   custody, where every quorum holds the client's part; reads and writes work;
 * - a plain version re-pointed at the RSA slot, with a forged wrapped DEK, commitment and ciphertext, is not
 *   served: 500 wrapped_dek_unauthenticated;
 * - an MPC version whose vault was edited so that two RSA slots hold a quorum, with forged shares, commitment
 *   and ciphertext, is not served: 500 unauthenticated_quorum.
 * (The default provider cannot be an RSA slot at all: provider-azure-keyvault.test.ts, configuration.)
 */
import assert from "node:assert/strict";
import { constants, createHash, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { commitDek, generateDek, splitAt } from "@shardvault/crypto";
import { commitmentContext, keyBindingContext, type Protection, type VersionRef } from "../src/envelope/contexts.js";
import { sealValue } from "../src/envelope/value.js";
import { api, assertNoLeak, assertProblem, makeTempDir, secretValue, startServer, type Api, type ServerHandle } from "./support/harness.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer, type AzureKeyVaultPeer } from "./support/peers/azure-keyvault-peer.js";
import { connect, createTestDatabase, postgresSkipReason, type TestDatabase } from "./support/postgres.js";
import { createVault, enableMpc, putSecret, readSecret } from "./support/mpc-support.js";

const TOKEN_ENV = "SV_PEER_AZURE_TOKEN";

describe("RSA-wrapped material is never the only protection of a DEK (postgres, Azure RSA peers)", { skip: await postgresSkipReason() }, () => {
  let database: TestDatabase;
  let server: ServerHandle;
  let admin: Api;
  let sql: pg.Client;
  const peers: Record<string, AzureKeyVaultPeer> = {};
  const forgedValues: string[] = [];

  before(async () => {
    const token = `eyJ0eXAiOiJKV1QifQ.rsa-${randomBytes(16).toString("base64url")}`;
    peers.azure = await startAzureKeyVaultPeer({ token });
    peers.azure2 = await startAzureKeyVaultPeer({ token });
    const dir = makeTempDir("sv-rsa-");
    const config = join(dir, "shardvault.json");
    const rsaSlot = (peer: AzureKeyVaultPeer) => ({ backend: "azure-keyvault", ...azureKeyVaultSlotConfig(peer, { key_size: 2048 }).fields });
    writeFileSync(
      config,
      JSON.stringify({
        default_provider: "gcp",
        deadline_ms: 30_000, // a safety net no working call comes near, even on a loaded machine
        providers: {
          gcp: { backend: "local", key_file: join(dir, "gcp.key") },
          aws: { backend: "local", key_file: join(dir, "aws.key") },
          azure: rsaSlot(peers.azure),
          azure2: rsaSlot(peers.azure2),
        },
      }),
    );
    database = await createTestDatabase("rsa");
    server = await startServer({ database: "postgres", databaseUrl: database.url, env: { SHARDVAULT_CONFIG: config, [TOKEN_ENV]: token } });
    admin = api(server.url, server.adminKey);
    sql = await connect(database.url);
  });

  after(async () => {
    await sql?.end();
    await server?.stop().catch(() => undefined);
    await database?.drop();
    await Promise.all(Object.values(peers).map((p) => p.stop()));
  });

  /** The RSA public key of a KEK, as anyone allowed to read the key's metadata gets it. */
  async function publicKeyOf(slot: string, kekId: string) {
    const peer = peers[slot]!;
    const res = await fetch(`${peer.vaultUrl}/keys/${kekId}?api-version=7.6`, { headers: { authorization: `Bearer ${peer.token}` } });
    const jwk = ((await res.json()) as { key: { n: string; e: string } }).key;
    return createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
  }

  /** RSA-OAEP-256 of `sha256(binding) || material` under the KEK's public key: what the provider's unwrap accepts. */
  async function forgeWrap(slot: string, kekId: string, binding: Uint8Array, material: Uint8Array): Promise<Buffer> {
    const digest = createHash("sha256").update(binding).digest();
    return publicEncrypt({ key: await publicKeyOf(slot, kekId), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, Buffer.concat([digest, material]));
  }

  async function mpcKekOf(vaultId: string, slot: string): Promise<string> {
    const { rows } = await sql.query<{ kek_id: string }>("SELECT kek_id FROM vault_mpc_keks WHERE vault_id = $1 AND provider = $2", [vaultId, slot]);
    assert.equal(rows.length, 1, `vault ${vaultId} has a KEK at ${slot}`);
    return rows[0]!.kek_id;
  }

  async function versionRow(vaultId: string, path: string): Promise<{ id: string; version: number }> {
    const { rows } = await sql.query<{ id: string; version: number }>("SELECT id, version FROM secret_versions WHERE vault_id = $1 AND path = $2", [vaultId, path]);
    return rows[0]!;
  }

  /** The commitment and ciphertext of the attacker's own value under the attacker's DEK. */
  function forgedVersion(ref: VersionRef, protection: Protection, dek: Uint8Array) {
    const value = secretValue("forged");
    forgedValues.push(value);
    return { value, commitment: commitDek(dek, commitmentContext(ref, protection)), ciphertext: Buffer.from(sealValue(dek, ref, Buffer.from(value))) };
  }

  test("MPC whose RSA slots alone would rebuild a DEK is refused (400 unauthenticated_quorum); one RSA slot among others is accepted", async () => {
    const refused: Array<Record<string, unknown>> = [
      { custody_mode: "2of3_multi_hsm", providers: ["gcp", "azure", "azure2"] },
      { custody_mode: "2of3_client_custody", providers: ["azure", "azure2"] },
    ];
    for (const body of refused) {
      const plain = await createVault(admin, "rsa refused");
      const res = await admin.post(`/v1/vaults/${plain.id}/mpc`, body);
      assertProblem(res, 400, "unauthenticated_quorum", /azure, azure2/, JSON.stringify(body));
      assert.equal((await admin.get(`/v1/vaults/${plain.id}`)).body.mpc_custody ?? null, null, "MPC was enabled anyway");
      const created = await admin.post("/v1/vaults", { name: "rsa refused at creation", ...body });
      assertProblem(created, 400, "unauthenticated_quorum", undefined, `created with ${JSON.stringify(body)}`);
    }
    for (const body of [
      { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"] },
      { custody_mode: "2of3_client_custody", providers: ["gcp", "azure2"] },
      { custody_mode: "2of2_client_custody", providers: ["azure"] },
      // The client's part is in every quorum of strict client custody: two RSA slots are never one alone.
      { custody_mode: "2of3_client_required", providers: ["azure", "azure2"] },
    ]) {
      const vault = await createVault(admin, "rsa accepted");
      await enableMpc(admin, vault.id, body);
      const value = secretValue("rsa-accepted");
      const written = await admin.put(`/v1/vaults/${vault.id}/secrets/ok/one`, { value });
      assert.equal(written.status, 201, written.text);
      const read = await readSecret(admin, vault.id, "ok/one", written.body.client_share);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.value, value);
    }
  });

  test("a plain version re-pointed at an RSA slot with a forged wrapped DEK, commitment and ciphertext is not served", async () => {
    // A KEK at the RSA slot exists because some MPC vault uses it; its public key is no secret.
    const mpcVault = await createVault(admin, "rsa kek holder", { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"] });
    const kekId = await mpcKekOf(mpcVault.id, "azure");
    const vault = await createVault(admin, "plain target");
    await putSecret(admin, vault.id, "target/one", secretValue("genuine"));
    const row = await versionRow(vault.id, "target/one");
    const ref = { vaultId: vault.id, path: "target/one", version: row.version };
    const protection = { custody: "none", threshold: 1, providers: ["azure"] };
    const dek = generateDek();
    const wrapped = await forgeWrap("azure", kekId, keyBindingContext(ref, protection, { shareIndex: 0, slot: "azure", kekId }), dek);
    const forged = forgedVersion(ref, protection, dek);
    await sql.query("UPDATE secret_versions SET kek_slot = 'azure', kek_id = $2, wrapped_dek = $3, dek_commitment = $4, ciphertext = $5 WHERE id = $1", [
      row.id,
      kekId,
      wrapped,
      forged.commitment,
      forged.ciphertext,
    ]);
    const res = await readSecret(admin, vault.id, "target/one");
    assert.ok(!res.text.includes(forged.value), `the forged value was served: ${res.status} ${res.text}`);
    assertProblem(res, 500, "wrapped_dek_unauthenticated");
  });

  test("an MPC version edited so that two RSA slots hold a quorum, with forged shares, is not served", async () => {
    // KEKs at both RSA slots, from vaults that use them legitimately.
    const one = await createVault(admin, "rsa kek one", { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"] });
    const two = await createVault(admin, "rsa kek two", { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure2"] });
    const keks = { azure: await mpcKekOf(one.id, "azure"), azure2: await mpcKekOf(two.id, "azure2") };
    const vault = await createVault(admin, "mpc target", { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"] });
    await putSecret(admin, vault.id, "target/two", secretValue("genuine"));
    const row = await versionRow(vault.id, "target/two");
    const holders = ["azure", "azure2", "gcp"];
    const mode = "2of3_multi_hsm";
    const ref = { vaultId: vault.id, path: "target/two", version: row.version };
    const protection = { custody: mode, threshold: 2, providers: holders };
    const dek = generateDek();
    const shares = splitAt(dek, 2, [1, 2, 3]);
    const forged = forgedVersion(ref, protection, dek);
    await sql.query("UPDATE vaults SET mpc_providers = $2 WHERE id = $1", [vault.id, holders]);
    await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1", [row.id]);
    for (const [i, slot] of (["azure", "azure2"] as const).entries()) {
      const kekId = keks[slot];
      const wrapped = await forgeWrap(slot, kekId, keyBindingContext(ref, protection, { shareIndex: i + 1, slot, kekId }), shares[i]!);
      await sql.query("INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share) VALUES ($1, $2, $3, $4, $5, $6)", [
        row.id,
        vault.id,
        slot,
        i + 1,
        kekId,
        wrapped,
      ]);
    }
    // gcp's share cannot be forged without its key: whatever stands there fails its check.
    const gcpKek = await mpcKekOf(vault.id, "gcp");
    await sql.query("INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share) VALUES ($1, $2, 'gcp', 3, $3, $4)", [row.id, vault.id, gcpKek, randomBytes(61)]);
    await sql.query("UPDATE secret_versions SET dek_commitment = $2, ciphertext = $3 WHERE id = $1", [row.id, forged.commitment, forged.ciphertext]);
    for (let i = 0; i < 3; i++) {
      const res = await readSecret(admin, vault.id, "target/two");
      assert.ok(!res.text.includes(forged.value), `read #${i}: the forged value was served: ${res.status} ${res.text}`);
      assertProblem(res, 500, "unauthenticated_quorum", undefined, `read #${i}`);
    }
  });

  test("the server output holds no forged value and no peer token", async () => {
    await server.stop();
    assertNoLeak(server.output(), [...forgedValues, peers.azure!.token, server.adminKey]);
  });
});
