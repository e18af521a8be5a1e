/**
 * GET /metrics as Prometheus scrapes it: HTTP requests by route pattern, method and status with latency
 * histograms; provider calls by slot, operation and outcome; the quorum's hedges; audit group-commit batch sizes;
 * background job progress. No label holds a value, key, share, token, id or a URL as typed. With
 * `metrics.bearer_token_env` the route needs that bearer token.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api, assertProblem, expectStartFailure, makeTempDir, secretValue, startServer, type Api, type ServerHandle } from "./support/harness.js";
import { deployOnCloudPeers, startCloudPeers, type CloudPeers } from "./support/peers/cloud-deployment.js";
import type { Deployment } from "./support/postgres.js";
import { assertStarted, postJob, waitForJob, writeSecrets } from "./support/lifecycle.js";

/** The samples of the text format: `name{labels} value`, by metric name. */
function samples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

const sum = (text: string, name: string, labels: Record<string, string> = {}) =>
  samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);

async function scrape(url: string, token?: string): Promise<string> {
  const res = await api(url, token).get("/metrics");
  assert.equal(res.status, 200, res.text);
  assert.match(String(res.headers.get("content-type")), /^text\/plain; version=0\.0\.4/);
  return res.text;
}

describe("metrics on three cloud slots (multi-HSM, one slot refusing)", () => {
  let cloud: CloudPeers;
  let deployment: Deployment;
  let admin: Api;
  const sensitive: string[] = [];
  before(async () => {
    cloud = await startCloudPeers();
    deployment = await deployOnCloudPeers(cloud, "pglite", { deadline_ms: 5000 });
    admin = api(deployment.server.url, deployment.server.adminKey);
    sensitive.push(deployment.server.adminKey, ...cloud.credentials);
  });
  after(async () => {
    await deployment?.dispose();
    await cloud?.stop();
  });

  test("requests by route pattern and status, provider calls by outcome, a hedge, audit batches, a job's items", async () => {
    const vault = await admin.post("/v1/vaults", { name: "metrics", mpc_custody: "2of3_multi_hsm" });
    assert.equal(vault.status, 201, vault.text);
    const vaultId = vault.body.id as string;
    const secrets = await writeSecrets(admin, vaultId, "metric/path", 3, 1);
    sensitive.push(vaultId, "metric/path", ...secrets.map((s) => s.value));
    const token = (await api(deployment.server.url).post("/v1/auth/api-key-token", { api_key: deployment.server.adminKey })).body.access_token as string;
    sensitive.push(token);
    assert.equal((await api(deployment.server.url).get(`/v1/no/such/${secretValue("route")}`)).status, 404);

    // The first read asks gcp and aws (no latency known yet: configuration order); gcp refuses, so the quorum
    // asks azure: a hedge.
    const beforeRead = await scrape(deployment.server.url);
    await cloud.peers.gcp.fault({ refuse: true });
    const read = await api(deployment.server.url, token).get(`/v1/vaults/${vaultId}/secrets/${secrets[0]!.path}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.value, secrets[0]!.value);
    const afterRead = await scrape(deployment.server.url);
    await cloud.reset();
    // What the read did: the counts after it less those before.
    const byRead = (name: string, labels: Record<string, string>) => sum(afterRead, name, labels) - sum(beforeRead, name, labels);

    const job = assertStarted(await postJob(admin, vaultId, "rotate"), "rotate", vaultId);
    assert.equal((await waitForJob(admin, vaultId, job)).status, "completed");

    const text = await scrape(deployment.server.url);
    const route = "/v1/vaults/:vault_id/secrets/*";
    assert.equal(sum(text, "shardvault_http_requests_total", { method: "PUT", route, status: "201" }), 3);
    assert.equal(sum(text, "shardvault_http_requests_total", { method: "GET", route, status: "200" }), 1);
    assert.equal(sum(text, "shardvault_http_requests_total", { route: "unmatched", status: "404" }), 1);
    assert.equal(sum(text, "shardvault_http_request_duration_seconds_count", { method: "PUT", route }), 3);
    assert.ok(sum(text, "shardvault_http_request_duration_seconds_bucket", { method: "PUT", route, le: "+Inf" }) === 3, "a latency histogram per route");

    // Each write wrapped a share at every slot.
    for (const slot of ["gcp", "aws", "azure"]) {
      assert.ok(sum(text, "shardvault_provider_calls_total", { slot, operation: "wrap", outcome: "ok" }) >= 3, `${slot} wraps`);
      assert.ok(sum(text, "shardvault_provider_call_duration_seconds_count", { slot, operation: "wrap", outcome: "ok" }) >= 3, `${slot} wrap latencies`);
    }
    // gcp's refusal ends its call as unavailable, or — when its retries outlast its hedge delay and aws and azure
    // answer first — as aborted; either way the quorum asked azure once, after a failure or for slowness.
    const unwraps = (slot: string, outcome: string) => byRead("shardvault_provider_calls_total", { slot, operation: "unwrap", outcome });
    assert.equal(unwraps("gcp", "ok"), 0, "gcp answered while it refused connections");
    assert.equal(unwraps("gcp", "unavailable") + unwraps("gcp", "aborted"), 1, "gcp's refused unwrap");
    assert.deepEqual([unwraps("aws", "ok"), unwraps("azure", "ok")], [1, 1], "aws and azure answered");
    assert.equal(byRead("shardvault_quorum_hedges_total", {}), 1);

    // The read's event went through the group commit; the rotation moved every version.
    assert.ok(sum(text, "shardvault_audit_batch_size_count") >= 1);
    assert.ok(sum(text, "shardvault_audit_batch_size_sum") >= 1);
    assert.equal(sum(text, "shardvault_job_items_processed_total", { kind: "rotate" }), 3);
    assert.equal(sum(text, "shardvault_jobs_ended_total", { kind: "rotate", outcome: "completed" }), 1);
    assert.equal(sum(text, "shardvault_jobs_running", { kind: "rotate" }), 0);

    // Labels come from closed vocabularies: none of the request's particulars is among them.
    for (const secret of sensitive) assert.ok(!text.includes(secret), `the metrics hold ${secret.slice(0, 8)}…`);
    assert.ok(!/\/v1\/no\/such/.test(text), "an unmatched URL is not a label");
  });
});

describe("metrics behind a bearer token", () => {
  const token = "metrics-" + "t".repeat(24);
  let server: ServerHandle;
  before(async () => {
    const dir = makeTempDir("shardvault-metrics-");
    const config = join(dir, "shardvault.json");
    writeFileSync(config, JSON.stringify({ providers: { dev: { backend: "local", key_file: "dev.key" } }, metrics: { bearer_token_env: "SV_METRICS_TOKEN" } }));
    server = await startServer({ database: "pglite", env: { SHARDVAULT_CONFIG: config, SV_METRICS_TOKEN: token } });
  });
  after(async () => {
    await server?.stop();
  });

  test("no token or a wrong one: 401 in the problem shape; the right one: the metrics", async () => {
    assertProblem(await api(server.url).get("/metrics"), 401, "unauthorized", /metrics\.bearer_token_env/);
    assertProblem(await api(server.url, token + "x").get("/metrics"), 401, "unauthorized");
    assertProblem(await api(server.url, server.adminKey).get("/metrics"), 401, "unauthorized", undefined, "an API key is not the metrics token");
    assert.match(await scrape(server.url, token), /^shardvault_http_requests_total\{/m);
    assert.ok(!server.output().includes(token), "the token is never printed");
  });

  test("a token shorter than 16 characters, or a variable not set, stops start-up", async () => {
    const config = join(makeTempDir("shardvault-metrics-"), "shardvault.json");
    writeFileSync(config, JSON.stringify({ providers: { dev: { backend: "local", key_file: "dev.key" } }, metrics: { bearer_token_env: "SV_METRICS_TOKEN" } }));
    for (const env of [{}, { SV_METRICS_TOKEN: "short" }]) {
      const failure = await expectStartFailure({ database: "pglite", env: { SHARDVAULT_CONFIG: config, ...env } });
      assert.match(failure.output, /metrics\.bearer_token_env names SV_METRICS_TOKEN, which must hold a token of at least 16 characters/);
      assert.ok(!failure.output.includes("short\n") && !/: short/.test(failure.output));
    }
  });
});
