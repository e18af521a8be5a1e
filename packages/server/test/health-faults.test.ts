/**
 * `GET /v1/health` and `GET /v1/health/hsm` while a provider slot is down, hanging, slow, or holds a corrupt
 * stored share — the three cloud slots on their local wire peers, PGlite. Health is measured at start-up and
 * then in the background, and answered from memory; each case therefore (re)starts the server with the fault
 * in place, so that the answer reflects it without waiting for a refresh.
 *
 * - all slots answer: `healthy`; hsm `ok`, every slot `ok`, no corrupt share;
 * - one slot down (connections refused) or hanging (past the deadline): `degraded`; hsm `degraded`; that slot
 *   `unavailable`, the others `ok`; reads still work;
 * - one slot slow (well inside the deadline): still `healthy` and `ok` (slow is no failure);
 * - a corrupt stored share met by a read: counted in that slot's `corrupt_shares` (the read succeeds from the
 *   others); the slot itself still answers, so statuses stay `healthy` / `ok`;
 * - without a user token `/v1/health/hsm` says only the overall status.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { onDatabase } from "./support/auth-support.js";
import { api, assertNoLeak, secretValue, type Api } from "./support/harness.js";
import type { Deployment } from "./support/postgres.js";
import { CLOUD_SLOTS, deployOnCloudPeers, startCloudPeers, type CloudPeers, type CloudSlot } from "./support/peers/cloud-deployment.js";
import type { Faults } from "./support/peers/faults.js";
import { assertValue, boundedGet, createVault, mode, putSecret, secretUrl } from "./support/mpc-support.js";

/**
 * The deadline of each provider call, health probes included: a hanging slot is unavailable after it. Far above
 * what a working probe takes on a loaded 2-core machine, so that only the hanging slot is cut.
 */
const DEADLINE_MS = 10_000;

interface Health {
  overall: string;
  hsm: string;
  /** Per slot: status and corrupt_shares (user token). */
  slots: Record<string, { status: string; corrupt_shares: number; last_latency_ms: number }>;
  /** What `/v1/health/hsm` tells a caller without a token. */
  anonymous: unknown;
}

describe("health while a provider slot is down, hanging, slow or corrupt", () => {
  let cloud: CloudPeers;
  let deployment: Deployment;
  let admin: Api;
  let vaultId: string;
  const sensitive: string[] = [];
  const value = secretValue("health");
  sensitive.push(value);

  async function restart(): Promise<void> {
    for (const server of deployment.servers) await server.stop();
    const server = await deployment.restart();
    admin = api(server.url, server.adminKey);
  }

  async function health(): Promise<Health> {
    const overall = await admin.get("/v1/health");
    assert.equal(overall.status, 200, overall.text);
    const hsm = await admin.get("/v1/health/hsm");
    assert.equal(hsm.status, 200, hsm.text);
    const anonymous = await api(deployment.servers.at(-1)!.url).get("/v1/health/hsm");
    assert.equal(anonymous.status, 200, anonymous.text);
    return {
      overall: overall.body.status,
      hsm: hsm.body.status,
      slots: Object.fromEntries(hsm.body.providers.map((p: any) => [p.slot, p])),
      anonymous: anonymous.body,
    };
  }

  function assertSlots(h: Health, expected: Record<CloudSlot, string>, context: string): void {
    assert.deepEqual(Object.fromEntries(CLOUD_SLOTS.map((slot) => [slot, h.slots[slot]?.status])), expected, context);
    assert.deepEqual(h.anonymous, { status: h.hsm }, `${context}: the answer without a token`);
  }

  const read = () => boundedGet(deployment.servers.at(-1)!.url, deployment.server.adminKey, secretUrl(vaultId, "health/one"), {}, 30_000);

  before(async () => {
    cloud = await startCloudPeers();
    sensitive.push(...cloud.credentials);
    deployment = await deployOnCloudPeers(cloud, "pglite", { deadline_ms: DEADLINE_MS });
    sensitive.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    const m = mode("2of3_multi_hsm");
    vaultId = (await createVault(admin, "health", { custody_mode: m.name })).id;
    await putSecret(admin, vaultId, "health/one", value, m);
  });
  afterEach(async () => {
    await cloud?.reset();
  });
  after(async () => {
    await deployment?.dispose();
    await cloud?.stop();
  });

  test("every slot answers: healthy, hsm ok, every slot ok, no corrupt share", async () => {
    await restart();
    const h = await health();
    assert.equal(h.overall, "healthy");
    assert.equal(h.hsm, "ok");
    assertSlots(h, { gcp: "ok", aws: "ok", azure: "ok" }, "all up");
    for (const slot of CLOUD_SLOTS) {
      assert.equal(h.slots[slot]!.corrupt_shares, 0, slot);
      assert.equal(typeof h.slots[slot]!.last_latency_ms, "number", slot);
    }
  });

  const outages: Array<{ label: string; faults: Faults }> = [
    { label: "down (connections refused)", faults: { refuse: true } },
    { label: "hanging (requests never answered)", faults: { hang: true } },
  ];
  for (const { label, faults } of outages) {
    for (const slot of ["aws", "azure"] as const) {
      test(`${slot} ${label}: degraded, hsm degraded, ${slot} unavailable and the others ok; reads still work`, async () => {
        await cloud.peers[slot].fault(faults);
        await restart();
        const h = await health();
        assert.equal(h.overall, "degraded");
        assert.equal(h.hsm, "degraded");
        assertSlots(h, { gcp: "ok", aws: "ok", azure: "ok", [slot]: "unavailable" }, `${slot} ${label}`);
        assertValue(await read(), value, 1, `${slot} ${label}`);
      });
    }
  }

  test("two slots down: degraded, hsm degraded, both unavailable", async () => {
    await cloud.aws.fault({ refuse: true });
    await cloud.azure.fault({ refuse: true });
    await restart();
    const h = await health();
    assert.equal(h.overall, "degraded");
    assert.equal(h.hsm, "degraded");
    assertSlots(h, { gcp: "ok", aws: "unavailable", azure: "unavailable" }, "aws and azure down");
  });

  test("a slow slot (well inside the deadline) is no failure: healthy, hsm ok, the slot ok", async () => {
    await cloud.azure.fault({ latencyMs: 200 });
    await restart();
    const h = await health();
    assert.equal(h.overall, "healthy");
    assert.equal(h.hsm, "ok");
    assertSlots(h, { gcp: "ok", aws: "ok", azure: "ok" }, "azure slow");
  });

  test("a corrupt stored share met by a read is counted for its slot; the slot still answers, so statuses stay ok", async () => {
    // One byte of gcp's stored share flipped; on the fresh server no read has been measured, so the first read
    // asks the slots in share order: gcp (corrupt, reported), aws, then azure in gcp's place.
    await onDatabase(deployment, async (db) => {
      const updated = await db.query(
        `UPDATE secret_dek_shares SET wrapped_share = overlay(wrapped_share placing decode(lpad(to_hex(get_byte(wrapped_share, 20) # 1), 2, '0'), 'hex') from 21 for 1)
          WHERE provider = 'gcp' AND version_id = (SELECT id FROM secret_versions WHERE vault_id = $1 AND path = 'health/one')`,
        [vaultId],
      );
      assert.equal((updated as { rowCount?: number }).rowCount ?? (updated as { affectedRows?: number }).affectedRows, 1);
    });
    await restart();
    const before = await health();
    assert.equal(before.slots.gcp!.corrupt_shares, 0);
    assertValue(await read(), value, 1, "read with gcp's share corrupt");
    const h = await health();
    assert.equal(h.slots.gcp!.corrupt_shares, 1, "the corrupt share was not counted");
    assert.equal(h.slots.aws!.corrupt_shares, 0);
    assert.equal(h.slots.azure!.corrupt_shares, 0);
    assert.equal(h.overall, "healthy");
    assert.equal(h.hsm, "ok");
    assertSlots(h, { gcp: "ok", aws: "ok", azure: "ok" }, "gcp's share corrupt");
  });

  test("the server output holds no value, key or peer credential", async () => {
    for (const server of deployment.servers) {
      await server.stop();
      assertNoLeak(server.output(), sensitive);
    }
  });
});
