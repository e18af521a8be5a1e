/**
 * MPC under provider faults (PostgreSQL): the three slots are real cloud backends — gcp-kms, aws-kms and
 * azure-keyvault through their official SDKs — each talking to its local wire peer
 * (test/support/peers/*.ts), which injects faults: refused connections (down), persistent 5xx, persistent
 * throttling, hangs, latency.
 *
 * - multi-HSM: with any one slot down, failing, throttled, hanging or slow, reads still succeed (from the other
 *   two); writes are refused cleanly — 503 provider_unavailable naming the slot, with Retry-After — and leave
 *   nothing stored (no version row, no share row); a slow slot is no failure (writes succeed); nor is any fault
 *   of the azure slot, an RSA key whose wraps the server makes with its public key (known since the vault's
 *   KEK was created): writes succeed, and what they wrote reads once it is back;
 * - two slots down: reads are refused with 503 provider_unavailable (answered, not hung), never a value;
 * - 2-of-3 client custody and strict client custody: one server slot down still reads with the client's
 *   share; 2-of-2: its only slot down refuses reads and writes with 503;
 * - enabling MPC while a needed slot is down: 503 naming it, the vault unchanged; after the fault it works;
 * - the server output holds no value, share, key or peer credential.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertNoLeak, assertProblem, secretValue, type Api, type ApiResponse } from "./support/harness.js";
import { connect, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { CLOUD_SLOTS as SLOTS, deployOnCloudPeers, startCloudPeers, type CloudPeers, type CloudSlot as Slot } from "./support/peers/cloud-deployment.js";
import type { Faults, WirePeer } from "./support/peers/faults.js";
import { assertMpcVault, assertValue, boundedGet, createVault, enableMpc, mode, putSecret, secretUrl, type ModeInfo } from "./support/mpc-support.js";

/**
 * Each provider call's deadline: a hanging slot costs a write this long. Far above what a working call takes on
 * a loaded 2-core machine (2 s was not: vault creations against healthy peers ran into it).
 */
const DEADLINE_MS = 10_000;

const FAULTS: Array<{ label: string; faults: Faults; failsWrites: boolean }> = [
  { label: "down (connections refused)", faults: { refuse: true }, failsWrites: true },
  { label: "failing (every answer a 5xx)", faults: { error5xx: 100_000 }, failsWrites: true },
  { label: "throttled (every answer throttling)", faults: { throttle: 100_000 }, failsWrites: true },
  { label: "hanging (requests never answered)", faults: { hang: true }, failsWrites: true },
  { label: "slow (150 ms per answer)", faults: { latencyMs: 150 }, failsWrites: false },
];

describe("mpc with cloud provider slots under faults on postgres", { skip: await postgresSkipReason() }, () => {
  let cloud: CloudPeers;
  let peers: Record<Slot, WirePeer>;
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  const sensitive: string[] = [];

  interface Written {
    vaultId: string;
    path: string;
    version: number;
    value: string;
    share?: string;
  }

  const read = (w: Written, share = w.share) =>
    boundedGet(deployment.server.url, deployment.server.adminKey, `${secretUrl(w.vaultId, w.path)}?version=${w.version}`, share ? { "X-Client-Share": share } : {}, 30_000);

  async function write(m: ModeInfo, vaultId: string, path: string): Promise<Written> {
    const value = secretValue(`fault-${path}`);
    sensitive.push(value);
    const w = await putSecret(admin, vaultId, path, value, m);
    if (w.client_share) sensitive.push(w.client_share);
    return { vaultId, path, version: w.version, value, ...(w.client_share ? { share: w.client_share } : {}) };
  }

  async function stored(vaultId: string): Promise<{ versions: number; shares: number }> {
    const v = await sql.query("SELECT count(*)::int AS n FROM secret_versions WHERE vault_id = $1", [vaultId]);
    const s = await sql.query("SELECT count(*)::int AS n FROM secret_dek_shares WHERE vault_id = $1", [vaultId]);
    return { versions: v.rows[0].n, shares: s.rows[0].n };
  }

  /** A write refused because `slot` is unavailable: 503, Retry-After, the slot named, nothing stored. */
  async function assertWriteRefused(vaultId: string, path: string, slot: string, context: string): Promise<void> {
    const before = await stored(vaultId);
    const value = secretValue("refused");
    sensitive.push(value);
    const res = await admin.put(secretUrl(vaultId, path), { value });
    assertProblem(res, 503, "provider_unavailable", new RegExp(`\\b${slot}\\b`), context);
    const retryAfter = res.headers.get("retry-after");
    assert.ok(retryAfter && /^\d+$/.test(retryAfter) && Number(retryAfter) > 0, `${context}: Retry-After ${retryAfter}`);
    assert.ok(!res.text.includes(value));
    assert.deepEqual(await stored(vaultId), before, `${context}: something was stored`);
    const rows = await sql.query("SELECT count(*)::int AS n FROM secret_versions WHERE vault_id = $1 AND path = $2", [vaultId, path]);
    assert.equal(rows.rows[0].n, 0, `${context}: a version row for the refused write`);
  }

  function assertUnavailable(res: ApiResponse, context: string) {
    assertProblem(res, 503, "provider_unavailable", undefined, context);
    assert.ok(res.headers.get("retry-after"), `${context}: no Retry-After`);
    for (const s of sensitive) assert.ok(!res.text.includes(s), `${context}: sensitive data in the answer`);
  }

  before(async () => {
    cloud = await startCloudPeers();
    peers = cloud.peers;
    sensitive.push(...cloud.credentials);
    deployment = await deployOnCloudPeers(cloud, "postgres", { deadline_ms: DEADLINE_MS });
    sensitive.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    sql = await connect(deployment.database!.url);
  });

  afterEach(async () => {
    await cloud?.reset();
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
    await cloud?.stop();
  });

  const multi = mode("2of3_multi_hsm");
  /** The azure slot's RSA wraps need no call to its vault (providers/azure-public-keys.ts). */
  const wrapsLocally = (slot: Slot) => slot === "azure";

  for (const slot of SLOTS) {
    for (const { label, faults, failsWrites: faultFailsWrites } of FAULTS) {
      const failsWrites = faultFailsWrites && !wrapsLocally(slot);
      test(`multi-HSM, ${slot} ${label}: reads succeed; writes ${failsWrites ? "refuse cleanly and store nothing" : "succeed"}`, async () => {
        const vaultId = (await createVault(admin, `fault ${slot} ${label}`, { custody_mode: multi.name })).id;
        const w = await write(multi, vaultId, "fault/existing");
        const w2 = await write(multi, vaultId, "fault/existing");
        await peers[slot].fault(faults);
        for (let i = 0; i < 3; i++) {
          assertValue(await read(w), w.value, 1, `${slot} ${label}, read #${i}`);
          assertValue(await read(w2), w2.value, 2, `${slot} ${label}, read #${i} (v2)`);
        }
        if (failsWrites) {
          await assertWriteRefused(vaultId, "fault/new", slot, `${slot} ${label}`);
          // An existing path gets no new version either.
          await assertWriteRefused(vaultId, "fault/existing-next", slot, `${slot} ${label}, second write`);
          const versions = await admin.get(`/v1/vaults/${vaultId}/secret-versions/fault/existing`);
          assert.deepEqual(versions.body.versions.map((v: any) => v.version), [1, 2]);
        }
        const fresh = failsWrites ? undefined : await write(multi, vaultId, "fault/new");
        if (fresh) assertValue(await read(fresh), fresh.value, 1);
        await peers[slot].reset();
        // Recovered: writes work again, and what was written reads.
        const after = await write(multi, vaultId, "fault/after");
        assertValue(await read(after), after.value, 1, "after the fault");
        if (fresh && wrapsLocally(slot) && faultFailsWrites) {
          // The share wrapped while the slot's vault was unreachable unwraps there: read with another slot down.
          await peers.gcp.fault({ refuse: true });
          assertValue(await read(fresh), fresh.value, 1, `written while ${slot} was ${label}, read through ${slot}`);
        }
      });
    }
  }

  test("multi-HSM, two slots down: reads are refused with 503 (answered, not hung), never a value", async () => {
    const vaultId = (await createVault(admin, "two down", { custody_mode: multi.name })).id;
    const w = await write(multi, vaultId, "two/down");
    for (const [a, b] of [["gcp", "aws"], ["aws", "azure"], ["gcp", "azure"]] as const) {
      await peers[a].fault({ refuse: true });
      await peers[b].fault({ refuse: true });
      for (let i = 0; i < 2; i++) assertUnavailable(await read(w), `${a} and ${b} down, read #${i}`);
      await peers[a].reset();
      await peers[b].reset();
      assertValue(await read(w), w.value, 1, `${a} and ${b} back`);
    }
  });

  test("multi-HSM, two slots failing while the third answers last: refused with 503 (answered, not hung)", async () => {
    const vaultId = (await createVault(admin, "two failing, one slow", { custody_mode: multi.name })).id;
    const w = await write(multi, vaultId, "two/failing");
    for (const slow of SLOTS) {
      const failing = SLOTS.filter((s) => s !== slow);
      for (const s of failing) await peers[s].fault({ error5xx: 100_000 });
      // Well inside the deadline, but later than the failing slots' retries.
      await peers[slow].fault({ latencyMs: 800 });
      const res = await boundedGet(deployment.server.url, deployment.server.adminKey, `${secretUrl(vaultId, w.path)}?version=1`, {}, 15_000);
      assertUnavailable(res, `${failing.join(" and ")} failing, ${slow} slow`);
      await Promise.all(SLOTS.map((s) => peers[s].reset()));
      assertValue(await read(w), w.value, 1, "all back");
    }
  });

  for (const m of [mode("2of3_client_custody"), mode("2of3_client_required")]) {
    test(`${m.name}: one server slot down still reads with the client's share; writes refuse naming it`, async () => {
      const vaultId = (await createVault(admin, `client custody faults ${m.name}`, { custody_mode: m.name })).id;
      const w = await write(m, vaultId, "cc/one");
      for (const slot of ["gcp", "aws"] as const) {
        await peers[slot].fault({ refuse: true });
        for (let i = 0; i < 3; i++) assertValue(await read(w), w.value, 1, `${slot} down, read #${i}`);
        await assertWriteRefused(vaultId, "cc/new", slot, `${m.name}, ${slot} down`);
        await peers[slot].reset();
      }
      // The azure slot holds no share in this mode: its outage changes nothing.
      await peers.azure.fault({ refuse: true });
      assertValue(await read(w), w.value, 1, "azure down");
      const fresh = await write(m, vaultId, "cc/azure-down");
      assertValue(await read(fresh), fresh.value, 1);
    });
  }

  test("2-of-2 client custody: its slot down refuses reads and writes with 503; the client's share is not blamed", async () => {
    const m = mode("2of2_client_custody");
    const vaultId = (await createVault(admin, "2of2 faults", { custody_mode: m.name })).id;
    const w = await write(m, vaultId, "two/two");
    await peers.gcp.fault({ refuse: true });
    assertUnavailable(await read(w), "gcp down");
    await assertWriteRefused(vaultId, "two/new", "gcp", "2of2, gcp down");
    await peers.gcp.reset();
    assertValue(await read(w), w.value, 1, "gcp back");
  });

  test("enabling MPC while a needed slot is down: 503 naming it, the vault unchanged; afterwards it works", async () => {
    const vault = await createVault(admin, "enable while down");
    const plainValue = secretValue("plain-before");
    sensitive.push(plainValue);
    await putSecret(admin, vault.id, "plain/one", plainValue);
    await peers.azure.fault({ refuse: true });
    const res = await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: multi.name });
    assertProblem(res, 503, "provider_unavailable", /\bazure\b/);
    assert.ok(res.headers.get("retry-after"));
    assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${vault.id}`)).body));
    assertValue(await boundedGet(deployment.server.url, deployment.server.adminKey, secretUrl(vault.id, "plain/one")), plainValue, 1, "still plain");
    const keks = await sql.query("SELECT count(*)::int AS n FROM vault_mpc_keks WHERE vault_id = $1", [vault.id]);
    assert.equal(keks.rows[0].n, 0);
    // A client-custody mode that does not use azure is not affected.
    const cc = await createVault(admin, "enable cc while azure down");
    assertMpcVault(await enableMpc(admin, cc.id, { custody_mode: "2of3_client_custody" }), mode("2of3_client_custody"));
    await peers.azure.reset();
    assertMpcVault(await enableMpc(admin, vault.id, { custody_mode: multi.name }), multi);
    assertValue(await boundedGet(deployment.server.url, deployment.server.adminKey, secretUrl(vault.id, "plain/one")), plainValue, 1, "re-protected");
  });

  test("client-share errors are decided before any provider is called (no unwrap reaches a peer)", async () => {
    const unwraps = () => cloud.gcp.count("Decrypt") + cloud.aws.count("Decrypt") + cloud.azure.count("UnwrapKey");
    for (const m of [mode("2of2_client_custody"), mode("2of3_client_custody"), mode("2of3_client_required")]) {
      const vaultId = (await createVault(admin, `share before provider ${m.name}`, { custody_mode: m.name })).id;
      const v1 = await write(m, vaultId, "early/check");
      const v2 = await write(m, vaultId, "early/check");
      const other = await write(m, vaultId, "early/other");
      const url = secretUrl(vaultId, "early/check");
      const before = unwraps();
      const refused: Array<[Record<string, string>, string]> = [
        [{}, "client_share_required"],
        [{ "X-Client-Share": "not base64!" }, "client_share_malformed"],
        [{ "X-Client-Share": v2.share!.slice(0, -4) }, "client_share_malformed"],
        [{ "X-Client-Share": v1.share! }, "client_share_mismatch"],
        [{ "X-Client-Share": other.share! }, "client_share_mismatch"],
      ];
      for (const [headers, code] of refused) assertProblem(await admin.get(url, { headers }), 400, code, undefined, `${m.name} ${code}`);
      assert.equal(unwraps(), before, `${m.name}: a provider was called for a share refused up front`);
      // The counter does see real reads.
      assertValue(await read(v2), v2.value, 2);
      assert.ok(unwraps() > before);
    }
  });

  test("the server output holds no value, share, key or peer credential", async () => {
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), sensitive);
  });
});
