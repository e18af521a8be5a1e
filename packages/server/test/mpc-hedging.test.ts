/**
 * Hedged reads over real providers (the three cloud backends through their SDKs, on their local wire peers,
 * PGlite): a multi-HSM read whose first-asked slot hangs is answered from the other two — the third slot asked
 * as a hedge — and the hanging call is then aborted on the wire: the peer sees its request abandoned.
 *
 * The provider deadline is far longer than the test's patience, so neither the answer nor the abort can come
 * from the deadline: only hedging answers the read, only the quorum's abort closes the request. (The order of
 * calls, hedge delays and latencies are pinned deterministically in mpc-quorum.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, secretValue } from "./support/harness.js";
import type { Deployment } from "./support/postgres.js";
import { deployOnCloudPeers, startCloudPeers, type CloudPeers } from "./support/peers/cloud-deployment.js";
import { eventually } from "./support/peers/cloud-suites.js";
import { assertValue, boundedGet, createVault, mode, putSecret, secretUrl } from "./support/mpc-support.js";

/** Far beyond the reads' patience (READ_PATIENCE_MS): a call the deadline ended would fail the test. */
const DEADLINE_MS = 120_000;
const READ_PATIENCE_MS = 30_000;

describe("hedged reads over the cloud peers", () => {
  let cloud: CloudPeers;
  let deployment: Deployment;
  const sensitive: string[] = [];

  before(async () => {
    cloud = await startCloudPeers();
    sensitive.push(...cloud.credentials);
    deployment = await deployOnCloudPeers(cloud, "pglite", { deadline_ms: DEADLINE_MS });
    sensitive.push(deployment.server.adminKey);
  });

  after(async () => {
    await deployment?.dispose();
    await cloud?.stop();
  });

  test("the first slot asked hangs: the read is answered through the hedge, and the hanging request is aborted on the wire", { timeout: 90_000 }, async () => {
    const admin = api(deployment.server.url, deployment.server.adminKey);
    const m = mode("2of3_multi_hsm");
    const vaultId = (await createVault(admin, "hedged", { custody_mode: m.name })).id;
    const value = secretValue("hedged");
    sensitive.push(value);
    await putSecret(admin, vaultId, "hedge/me", value, m);

    // No read has been measured yet on this server: the slots are asked in share order, gcp first.
    await cloud.gcp.fault({ hang: true });
    const before = { gcp: cloud.gcp.count("Decrypt"), aws: cloud.aws.count("Decrypt"), azure: cloud.azure.count("UnwrapKey"), abandoned: cloud.gcp.abandoned };
    const res = await boundedGet(deployment.server.url, deployment.server.adminKey, secretUrl(vaultId, "hedge/me"), {}, READ_PATIENCE_MS);
    assertValue(res, value, 1, "read with gcp hanging");
    assert.equal(cloud.gcp.count("Decrypt") - before.gcp, 1, "gcp was asked (and hangs)");
    assert.equal(cloud.aws.count("Decrypt") - before.aws, 1, "aws was asked");
    assert.equal(cloud.azure.count("UnwrapKey") - before.azure, 1, "azure was asked as the hedge");
    // The quorum aborted the hanging call once aws and azure had answered; the SDK closed its request.
    await eventually(() => cloud.gcp.abandoned > before.abandoned, "gcp's hanging request abandoned by the server", 10_000);
    assert.equal(cloud.gcp.abandoned - before.abandoned, 1);
    await cloud.gcp.reset();
    assertValue(await boundedGet(deployment.server.url, deployment.server.adminKey, secretUrl(vaultId, "hedge/me")), value, 1, "gcp back");
  });

  test("the server output holds no value, key or peer credential", async () => {
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), sensitive);
  });
});
