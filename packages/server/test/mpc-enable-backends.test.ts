/**
 * Enabling MPC on a vault that already holds secrets, with each real backend as the vault's provider (PostgreSQL):
 * gcp-kms, aws-kms and azure-keyvault (oct-HSM keys) through their official SDKs against local wire peers, and
 * pkcs11 on SoftHSM2 tokens. The three slots (`gcp`, `aws`, `azure`) are all of the backend under test and `gcp` is the
 * default, so the vault's plain KEK and one of its MPC KEKs live at the same backend and slot: the case in which
 * a KEK named after its vault alone made the "new" MPC KEK the old one, which was then disabled.
 *
 * For every backend and every custody mode: after enabling, the secret written before reads (with its client
 * share), a new one writes and reads, the vault's former KEK is disabled at its provider and its MPC KEKs are
 * not. An attempt that fails mid-way disables the KEKs it made and leaves the vault, and its KEK, working.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertNoLeak, makeTempDir, secretValue, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { awsKmsSlotConfig, startAwsKmsPeer } from "./support/peers/aws-kms-peer.js";
import { azureKeyVaultSlotConfig, startAzureKeyVaultPeer } from "./support/peers/azure-keyvault-peer.js";
import { gcpKmsSlotConfig, startGcpKmsPeer } from "./support/peers/gcp-kms-peer.js";
import { loadPkcs11js, makeSoftHsm, softHsmSkipReason, withToken, type SoftHsm } from "./support/softhsm.js";
import { assertMpcVault, assertValue, createVault, enableMpc, MODES, putSecret, readSecret } from "./support/mpc-support.js";

const SLOTS = ["gcp", "aws", "azure"] as const;
type Slot = (typeof SLOTS)[number];

/** What a test needs of a backend's key store: whether a KEK is enabled, and every KEK it holds. */
interface KekStore {
  enabled(kekId: string): boolean;
  all(): string[];
}

interface BackendUnderTest {
  /** `providers.<slot>` of the configuration file, and the environment it names. */
  slots: Record<Slot, { fields: Record<string, unknown>; env: Record<string, string> }>;
  stores: Record<Slot, KekStore>;
  sensitive: string[];
  stop(): Promise<void>;
}

async function cloudBackend(backend: "gcp-kms" | "aws-kms" | "azure-keyvault"): Promise<BackendUnderTest> {
  const slots = {} as BackendUnderTest["slots"];
  const stores = {} as BackendUnderTest["stores"];
  const stops: Array<() => Promise<void>> = [];
  const sensitive: string[] = [];
  for (const slot of SLOTS) {
    // One peer per slot: three slots of one backend, three trust domains.
    const suffix = slot.toUpperCase();
    if (backend === "gcp-kms") {
      const peer = await startGcpKmsPeer();
      const config = gcpKmsSlotConfig(peer, { access_token_env: `SV_PEER_GCP_TOKEN_${suffix}` });
      slots[slot] = { fields: config.fields, env: { [`SV_PEER_GCP_TOKEN_${suffix}`]: peer.token } };
      stores[slot] = { enabled: (id) => peer.kekEnabled(id), all: () => peer.kekIds() };
      sensitive.push(peer.token);
      stops.push(() => peer.stop());
    } else if (backend === "aws-kms") {
      const peer = await startAwsKmsPeer();
      const config = awsKmsSlotConfig(peer, { access_key_id_env: `SV_PEER_AWS_ID_${suffix}`, secret_access_key_env: `SV_PEER_AWS_SECRET_${suffix}` });
      slots[slot] = { fields: config.fields, env: { [`SV_PEER_AWS_ID_${suffix}`]: peer.accessKeyId, [`SV_PEER_AWS_SECRET_${suffix}`]: peer.secretAccessKey } };
      stores[slot] = { enabled: (id) => peer.kekEnabled(id), all: () => peer.kekIds() };
      sensitive.push(peer.secretAccessKey);
      stops.push(() => peer.stop());
    } else {
      // oct-HSM keys (A256KW): RSA slots could be neither the default provider nor, all three, an MPC quorum.
      const peer = await startAzureKeyVaultPeer({ resource: "https://managedhsm.azure.net" });
      const config = azureKeyVaultSlotConfig(peer, { key_type: "oct-HSM", access_token_env: `SV_PEER_AZURE_TOKEN_${suffix}` });
      slots[slot] = { fields: config.fields, env: { [`SV_PEER_AZURE_TOKEN_${suffix}`]: peer.token } };
      stores[slot] = { enabled: (id) => peer.kekEnabled(id), all: () => peer.kekIds() };
      sensitive.push(peer.token);
      stops.push(() => peer.stop());
    }
  }
  return { slots, stores, sensitive, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}

async function pkcs11Backend(): Promise<BackendUnderTest> {
  const p = await loadPkcs11js();
  // One SoftHSM folder (a process reads one SOFTHSM2_CONF), one token per slot.
  const hsm: SoftHsm = makeSoftHsm({ label: "sv-enable-gcp" });
  const tokens = { gcp: hsm as { label: string; pin: string }, aws: hsm.addToken("sv-enable-aws"), azure: hsm.addToken("sv-enable-azure") };
  const slots = {} as BackendUnderTest["slots"];
  const stores = {} as BackendUnderTest["stores"];
  for (const slot of SLOTS) {
    const { label, pin } = tokens[slot];
    const pinEnv = `SV_HSM_PIN_${slot.toUpperCase()}`;
    slots[slot] = { fields: { module: hsm.module, token_label: label, pin_env: pinEnv }, env: { [pinEnv]: pin, SOFTHSM2_CONF: hsm.conf } };
    const keysOf = (lib: any, session: Buffer) => {
      lib.C_FindObjectsInit(session, [{ type: p.CKA_CLASS, value: p.CKO_SECRET_KEY }]);
      const found: Buffer[] = lib.C_FindObjects(session, 1000);
      lib.C_FindObjectsFinal(session);
      return found.map((key) => {
        const [labelAttr, decrypt] = lib.C_GetAttributeValue(session, key, [{ type: p.CKA_LABEL }, { type: p.CKA_DECRYPT }]);
        return { kekId: (labelAttr.value as Buffer).toString("utf8"), decrypt: (decrypt.value as Buffer)[0] === 1 };
      });
    };
    stores[slot] = {
      enabled: (kekId) => {
        const key = withToken(p, label, pin, keysOf).find((k) => k.kekId === kekId);
        if (!key) throw new Error(`no key ${kekId} in token ${label}`);
        return key.decrypt;
      },
      all: () => withToken(p, label, pin, keysOf).map((k) => k.kekId),
    };
  }
  return { slots, stores, sensitive: Object.values(tokens).map((t) => t.pin), stop: () => hsm.cleanup() };
}

const BACKENDS = [
  { backend: "gcp-kms", make: () => cloudBackend("gcp-kms"), skip: false },
  { backend: "aws-kms", make: () => cloudBackend("aws-kms"), skip: false },
  { backend: "azure-keyvault", make: () => cloudBackend("azure-keyvault"), skip: false },
  { backend: "pkcs11", make: pkcs11Backend, skip: await softHsmSkipReason() },
] as const;

const pgSkip = await postgresSkipReason();

for (const { backend, make, skip } of BACKENDS) {
  describe(`enabling MPC with ${backend} as the vault's provider, on postgres`, { skip: pgSkip || skip }, () => {
    let under: BackendUnderTest;
    let deployment: Deployment;
    let admin: Api;
    let sql: pg.Client;
    const sensitive: string[] = [];

    const plainKek = async (vaultId: string) =>
      (await sql.query("SELECT kek_slot, kek_id FROM vaults WHERE id = $1", [vaultId])).rows[0] as { kek_slot: Slot; kek_id: string };
    const mpcKeks = async (vaultId: string) =>
      (await sql.query("SELECT provider, kek_id FROM vault_mpc_keks WHERE vault_id = $1", [vaultId])).rows as Array<{ provider: Slot; kek_id: string }>;

    before(async () => {
      under = await make();
      sensitive.push(...under.sensitive);
      const dir = makeTempDir("shardvault-enable-");
      const config = join(dir, "shardvault.json");
      writeFileSync(
        config,
        JSON.stringify({ default_provider: "gcp", providers: Object.fromEntries(SLOTS.map((slot) => [slot, { backend, ...under.slots[slot].fields }])) }),
      );
      const env = Object.assign({ SHARDVAULT_CONFIG: config }, ...SLOTS.map((slot) => under.slots[slot].env)) as Record<string, string>;
      deployment = await deploy("postgres", { env });
      sensitive.push(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      sql = await connect(deployment.database!.url);
    });

    after(async () => {
      await sql?.end();
      if (deployment) assertNoLeak(deployment.server.output(), sensitive);
      await deployment?.dispose();
      await under?.stop();
    });

    for (const m of MODES) {
      test(`${m.name}: the secrets written before read, new ones write, and only the former KEK is disabled`, async () => {
        const vault = await createVault(admin, `enable-${backend}-${m.name}`);
        const former = await plainKek(vault.id);
        assert.equal(former.kek_slot, "gcp");
        const before = secretValue("before");
        sensitive.push(before);
        await putSecret(admin, vault.id, "app/before", before);

        const enabled = await enableMpc(admin, vault.id, { custody_mode: m.name });
        assertMpcVault(enabled, m);
        const shares: Array<{ path: string; client_share: string }> = enabled.client_shares ?? [];
        sensitive.push(...shares.map((s) => s.client_share));
        assert.equal(shares.length, m.clientHoldsShare ? 1 : 0, JSON.stringify(enabled));
        assertValue(await readSecret(admin, vault.id, "app/before", shares[0]?.client_share), before, 1, `${m.name}: the secret written before`);

        const afterValue = secretValue("after");
        sensitive.push(afterValue);
        const written = await putSecret(admin, vault.id, "app/after", afterValue, m);
        if (written.client_share) sensitive.push(written.client_share);
        assertValue(await readSecret(admin, vault.id, "app/after", written.client_share), afterValue, 1, `${m.name}: the secret written after`);

        assert.equal(under.stores[former.kek_slot].enabled(former.kek_id), false, "the vault's former KEK is disabled at its provider");
        const keks = await mpcKeks(vault.id);
        assert.deepEqual(keks.map((k) => k.provider).sort(), [...m.slots].sort());
        for (const kek of keks) {
          assert.notEqual(kek.kek_id, former.kek_id, `${kek.provider}: the MPC KEK is not the former KEK`);
          assert.equal(under.stores[kek.provider].enabled(kek.kek_id), true, `${kek.provider}: the MPC KEK is enabled`);
        }
      });
    }

    test("an attempt that fails mid-way disables the KEKs it made and leaves the vault and its KEK working", async () => {
      const vault = await createVault(admin, `enable-${backend}-failed`);
      const former = await plainKek(vault.id);
      const intact = secretValue("intact");
      sensitive.push(intact);
      await putSecret(admin, vault.id, "app/intact", intact);
      await putSecret(admin, vault.id, "app/damaged", secretValue("damaged"));
      // A damaged wrapped DEK makes re-protection fail after the MPC KEKs were made.
      await sql.query("UPDATE secret_versions SET wrapped_dek = wrapped_dek || '\\x00'::bytea WHERE vault_id = $1 AND path = 'app/damaged'", [vault.id]);
      const known = Object.fromEntries(SLOTS.map((slot) => [slot, new Set(under.stores[slot].all())])) as Record<Slot, Set<string>>;

      const res = await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: "2of3_multi_hsm" });
      assert.ok(res.status >= 400, res.text);
      assert.equal((await sql.query("SELECT mpc_custody FROM vaults WHERE id = $1", [vault.id])).rows[0].mpc_custody, null);

      for (const slot of SLOTS) {
        const made = under.stores[slot].all().filter((id) => !known[slot].has(id));
        assert.equal(made.length, 1, `${slot}: one KEK made for the attempt`);
        assert.equal(under.stores[slot].enabled(made[0]!), false, `${slot}: the attempt's KEK is disabled`);
      }
      assert.equal(under.stores[former.kek_slot].enabled(former.kek_id), true, "the vault's own KEK is still enabled");
      assertValue(await readSecret(admin, vault.id, "app/intact"), intact, 1, "the vault still reads");
      const next = secretValue("next");
      sensitive.push(next);
      await putSecret(admin, vault.id, "app/next", next);
      assertValue(await readSecret(admin, vault.id, "app/next"), next, 1, "the vault still writes");
    });
  });
}
