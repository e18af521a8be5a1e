/**
 * Losing key providers for good, on the embedded database with local slots (SHARDVAULT_CONFIG: gcp, aws, azure,
 * spare, and a `twin` slot sharing gcp's key file, allowed by allow_shared_trust_domain):
 *
 * - a replacement onto a slot of the same trust domain as one of the vault's is refused (400 shared_trust_domain);
 * - gcp's key file deleted, server restarted: the server starts (its token signing key, wrapped at gcp, is made
 *   anew at another slot), `/v1/health/hsm` reports gcp unavailable (and twin, on the same file, which is not
 *   created anew), multi-HSM and 2-of-3 client-custody vaults still read from the others;
 * - multi-HSM: replacing gcp by spare re-splits every DEK from aws and azure;
 * - 2-of-3 client custody: the replacement answers 409 `needs_client_shares` and its job waits (failed, the error
 *   saying so); reads with the old shares keep working meanwhile and new writes go to the new slot set; each
 *   secret-refresh moves one version (a new share, the old one refused) and counts it; after the last the job
 *   completes, and posting the call again answers it;
 * - 2-of-2 client custody with its only server slot gone: 409 too, a refresh cannot rebuild the DEK (503), and
 *   new writes work on the new slot;
 * - strict client custody (2of3_client_required): with gcp gone, reads work with the client's share from aws
 *   (a wrong share is still client_share_invalid, a missing one client_share_required); the replacement needs
 *   no client share: aws holds the same server part, which the job wraps at spare, and every secret reads with
 *   its ORIGINAL client share; a client's secret-refresh afterwards still issues a fresh share;
 * - then aws's key file deleted as well: every secret of the replaced vaults still reads (strict client custody
 *   from spare's copy of the server part).
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, makeTempDir, type Api } from "./support/harness.js";
import { deploy, type Deployment } from "./support/postgres.js";
import { allAuditEvents } from "./support/auth-support.js";
import { secretUrl, shareHeader, writeLocalConfig, wrongShareBytes } from "./support/mpc-support.js";
import { assertAllRead, assertStarted, getJob, postJob, waitForJob, writeSecrets, type Secret } from "./support/lifecycle.js";

describe("losing providers for good: replacement, client refreshes, a second loss", () => {
  const config = writeLocalConfig(["gcp", "aws", "azure", "spare"], { allow_shared_trust_domain: true }, makeTempDir("shardvault-lost-"), { twin: "gcp" });
  const keyFile = (slot: string) => config.keyFiles[slot]!;
  const env = { SHARDVAULT_CONFIG: config.path };
  let deployment: Deployment;
  let admin: Api;
  type VaultName = "hsm" | "client" | "xor" | "strict";
  const vaults: Record<VaultName, string> = { hsm: "", client: "", xor: "", strict: "" };
  const secrets: Record<VaultName, Secret[]> = { hsm: [], client: [], xor: [], strict: [] };
  const sensitive: string[] = [];

  async function restartWithout(slot: string): Promise<void> {
    await deployment.servers.at(-1)!.stop();
    rmSync(keyFile(slot));
    const server = await deployment.restart({ env });
    admin = api(server.url, server.adminKey);
  }

  async function slotStatus(): Promise<Record<string, string>> {
    const res = await admin.get("/v1/health/hsm");
    assert.equal(res.status, 200, res.text);
    return Object.fromEntries(res.body.providers.map((p: any) => [p.slot, p.status]));
  }

  before(async () => {
    deployment = await deploy("pglite", { env });
    admin = api(deployment.server.url, deployment.server.adminKey);
    sensitive.push(deployment.server.adminKey);
    const modes = [["hsm", "2of3_multi_hsm"], ["client", "2of3_client_custody"], ["xor", "2of2_client_custody"], ["strict", "2of3_client_required"]] as const;
    for (const [name, mode] of modes) {
      const res = await admin.post("/v1/vaults", { name, custody_mode: mode });
      assert.equal(res.status, 201, res.text);
      vaults[name] = res.body.id;
      secrets[name] = await writeSecrets(admin, res.body.id, name, name === "xor" ? 2 : 5);
      for (const s of secrets[name]) sensitive.push(s.value, ...(s.share ? [s.share] : []));
    }
  });

  after(async () => {
    await deployment?.dispose();
  });

  test("a replacement onto a slot sharing a trust domain with the vault's is refused", async () => {
    assertProblem(await postJob(admin, vaults.hsm, "replace-provider", { from: "aws", to: "twin" }), 400, "shared_trust_domain");
    assertProblem(await postJob(admin, vaults.hsm, "replace-provider", { from: "gcp", to: "twin" }), 400, "shared_trust_domain");
  });

  test("gcp's key material destroyed: the server starts, reports gcp unavailable, and the vaults read from the others", async () => {
    await restartWithout("gcp");
    assert.match(deployment.servers.at(-1)!.output(), /the token signing key cannot be unwrapped \(gcp: .*\): making a new one at another slot/);
    const status = await slotStatus();
    assert.equal(status.gcp, "unavailable");
    // twin, never used, is on gcp's key file: building it would have made that file anew.
    assert.equal(status.twin, "unavailable");
    assert.equal(existsSync(keyFile("gcp")), false, "a fresh key file in place of gcp's");
    assert.equal(status.aws, "ok");
    await assertAllRead(admin, vaults.hsm, secrets.hsm, "multi-HSM without gcp");
    await assertAllRead(admin, vaults.client, secrets.client, "2-of-3 client custody without gcp");
    await assertAllRead(admin, vaults.strict, secrets.strict, "strict client custody without gcp");
    const strict = secrets.strict[0]!;
    assertProblem(await admin.get(secretUrl(vaults.strict, strict.path), { headers: shareHeader(wrongShareBytes(strict.share!)) }), 400, "client_share_invalid");
    assertProblem(await admin.get(secretUrl(vaults.strict, strict.path)), 400, "client_share_required");
    const xor = secrets.xor[0]!;
    assertProblem(await admin.get(secretUrl(vaults.xor, xor.path), { headers: shareHeader(xor.share) }), 503, "provider_unavailable");
  });

  test("multi-HSM: gcp replaced by spare, every DEK re-split from aws and azure", async () => {
    const jobId = assertStarted(await postJob(admin, vaults.hsm, "replace-provider", { from: "gcp", to: "spare" }), "replace-provider", vaults.hsm);
    const job = await waitForJob(admin, vaults.hsm, jobId);
    assert.deepEqual([job.status, job.total, job.processed], ["completed", 5, 5], JSON.stringify(job));
    assert.deepEqual((await admin.get(`/v1/vaults/${vaults.hsm}`)).body.mpc_providers, ["spare", "aws", "azure"]);
    await assertAllRead(admin, vaults.hsm, secrets.hsm, "after the replacement");
  });

  test("2-of-3 client custody: 409 needs_client_shares, then each secret moved by its client's refresh", async () => {
    const vaultId = vaults.client;
    const refused = await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" });
    assertProblem(refused, 409, "needs_client_shares");
    const jobId = /job ([0-9a-f-]{36})/.exec(refused.body.detail)![1]!;
    let job = await getJob(admin, vaultId, jobId);
    assert.deepEqual([job.kind, job.status, job.total, job.processed], ["replace_provider", "failed", 5, 0]);
    assert.match(job.error!, /^needs_client_shares/);
    assert.deepEqual((await admin.get(`/v1/vaults/${vaultId}`)).body.mpc_providers, ["spare", "aws", "client"]);
    // Meanwhile: old shares read (aws + client), new writes go to spare and aws.
    await assertAllRead(admin, vaultId, secrets.client, "waiting for client shares");
    const [fresh] = await writeSecrets(admin, vaultId, "fresh", 1);
    sensitive.push(fresh!.value, fresh!.share!);
    await assertAllRead(admin, vaultId, [fresh!], "a write while the replacement waits");
    // Posting it again while gcp is still gone: the same answer, the same job.
    assertProblem(await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" }), 409, "needs_client_shares");

    const moved: Secret[] = [];
    for (const [i, s] of secrets.client.entries()) {
      const res = await admin.post(`/v1/vaults/${vaultId}/secret-refresh/${s.path}`, undefined, { headers: shareHeader(s.share) });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.version, s.version);
      sensitive.push(res.body.client_share);
      assertProblem(await admin.get(secretUrl(vaultId, s.path), { headers: shareHeader(s.share) }), 400, "client_share_invalid");
      moved.push({ ...s, share: res.body.client_share });
      if (i < secrets.client.length - 1) {
        job = await getJob(admin, vaultId, jobId);
        assert.deepEqual([job.status, job.processed], ["failed", i + 1]);
      }
    }
    job = await waitForJob(admin, vaultId, jobId);
    assert.deepEqual([job.status, job.total, job.processed], ["completed", 5, 5], JSON.stringify(job));
    secrets.client = [...moved, fresh!];
    await assertAllRead(admin, vaultId, secrets.client, "every secret moved");
    const again = await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" });
    assert.equal(assertStarted(again, "replace-provider", vaultId), jobId);
    const actions = (await allAuditEvents(admin)).filter((e) => e.resource_id === vaultId || e.details.vault_id === vaultId).map((e) => e.action);
    for (const action of ["mpc.replace_provider_started", "mpc.replace_provider_completed", "secret.refresh"]) assert.ok(actions.includes(action), `${action} not audited`);
    assert.equal(actions.filter((a) => a === "secret.refresh").length, 5);
  });

  test("2-of-2 client custody with its server slot gone: 409, refreshes cannot rebuild a DEK, new writes work", async () => {
    const vaultId = vaults.xor;
    assertProblem(await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" }), 409, "needs_client_shares");
    const s = secrets.xor[0]!;
    assertProblem(await admin.post(`/v1/vaults/${vaultId}/secret-refresh/${s.path}`, undefined, { headers: shareHeader(s.share) }), 503, "provider_unavailable");
    const [fresh] = await writeSecrets(admin, vaultId, "after", 1);
    sensitive.push(fresh!.value, fresh!.share!);
    await assertAllRead(admin, vaultId, [fresh!], "2-of-2 on the new slot");
  });

  test("strict client custody: gcp replaced by spare without any client share; every secret reads with its original share", async () => {
    const vaultId = vaults.strict;
    const jobId = assertStarted(await postJob(admin, vaultId, "replace-provider", { from: "gcp", to: "spare" }), "replace-provider", vaultId);
    const job = await waitForJob(admin, vaultId, jobId);
    assert.deepEqual([job.status, job.total, job.processed], ["completed", 5, 5], JSON.stringify(job));
    assert.deepEqual((await admin.get(`/v1/vaults/${vaultId}`)).body.mpc_providers, ["spare", "aws", "client"]);
    await assertAllRead(admin, vaultId, secrets.strict, "the original client shares after the replacement");
    const actions = (await allAuditEvents(admin)).filter((e) => e.resource_id === vaultId || e.details.vault_id === vaultId).map((e) => e.action);
    assert.ok(actions.includes("mpc.replace_provider_completed"), actions.join(", "));
    assert.ok(!actions.includes("secret.refresh"), "no client moved a secret");

    // A client's own refresh still works on the new slots: a fresh share, the old one refused from then on.
    const [first, ...rest] = secrets.strict;
    const res = await admin.post(`/v1/vaults/${vaultId}/secret-refresh/${first!.path}`, undefined, { headers: shareHeader(first!.share) });
    assert.equal(res.status, 200, res.text);
    sensitive.push(res.body.client_share);
    assert.notEqual(res.body.client_share, first!.share);
    assertProblem(await admin.get(secretUrl(vaultId, first!.path), { headers: shareHeader(first!.share) }), 400, "client_share_invalid");
    secrets.strict = [{ ...first!, share: res.body.client_share }, ...rest];
    await assertAllRead(admin, vaultId, secrets.strict, "after a client's refresh");
  });

  test("then aws's key material destroyed too: every secret of the replaced vaults still reads", async () => {
    await restartWithout("aws");
    const status = await slotStatus();
    assert.deepEqual([status.gcp, status.aws, status.spare, status.azure], ["unavailable", "unavailable", "ok", "ok"]);
    await assertAllRead(admin, vaults.hsm, secrets.hsm, "multi-HSM on spare and azure");
    await assertAllRead(admin, vaults.client, secrets.client, "2-of-3 client custody on spare and the clients");
    await assertAllRead(admin, vaults.strict, secrets.strict, "strict client custody on spare and the clients");
  });

  test("no secret value, client share or API key in the server output", () => {
    for (const server of deployment.servers) assertNoLeak(server.output(), sensitive);
  });
});
