/**
 * The race between a write and the start of a lifecycle job, made deterministic in-process (embedded
 * database, real local providers): the aws slot's provider is wrapped so that one wrap waits at a gate. A
 * write seals its version under the vault's layout and waits there, holding aws's share wrapped under the
 * old KEK; a KEK rotation starts and switches the vault to new KEKs; the gate opens. The write must not commit
 * what it sealed (the job has already fixed the versions it moves, and will disable the old KEKs): it seals
 * again under the new layout and commits that. Once the rotation completes, with the old KEKs disabled, the
 * version reads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Principal } from "../src/auth/principal.js";
import { createAuditLog } from "../src/audit/audit.js";
import { openPglite } from "../src/db/pglite.js";
import { migrate } from "../src/db/migrate.js";
import { custodyMode } from "../src/envelope/custody-modes.js";
import { LatencyTracker } from "../src/envelope/latency.js";
import { createJobRunner } from "../src/jobs/job-runner.js";
import type { Logger } from "../src/log.js";
import { lifecycleJobKinds } from "../src/mpc/lifecycle-jobs.js";
import { createLifecycleService } from "../src/mpc/lifecycle-service.js";
import { createOrganization } from "../src/orgs/org-service.js";
import { createLocalProvider } from "../src/providers/local.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { createRegistry } from "../src/providers/registry.js";
import { createSecretService } from "../src/secrets/secret-service.js";
import { createVaultService } from "../src/vaults/vault-service.js";
import { makeTempDir } from "./support/harness.js";

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, raw: () => undefined };

test("a write sealed under the old KEKs while a rotation starts is sealed again under the new ones", async () => {
  const dir = makeTempDir("shardvault-race-");
  const db = await openPglite(join(dir, "data"));
  const cleanup: Array<() => Promise<void>> = [() => db.close()];
  after(async () => {
    for (const step of cleanup.reverse()) await step();
  });
  await migrate(db);
  const org = await db.transaction((tx) => createOrganization(tx, "race"));
  const admin: Principal = { type: "user", id: org.adminUserId, orgId: org.orgId };

  // aws's provider, with one wrap held at a gate when armed.
  let armed = false;
  let reached!: () => void;
  const atGate = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const aws = createLocalProvider("aws", join(dir, "aws.key"));
  const gatedAws: KeyProvider = {
    ...aws,
    async wrap(kekId, plaintext, aad, opts) {
      if (armed) {
        armed = false;
        reached();
        await gate;
      }
      return aws.wrap(kekId, plaintext, aad, opts);
    },
  };
  const providers = createRegistry([createLocalProvider("gcp", join(dir, "gcp.key")), gatedAws, createLocalProvider("azure", join(dir, "azure.key"))], "gcp");
  const latency = new LatencyTracker();
  const deps = { db, providers, latency, reportCorruptShare: () => assert.fail("a share was reported corrupt"), log: quiet };
  const vaults = createVaultService({ db, providers });
  const secrets = createSecretService({
    db,
    providers,
    vaults,
    limits: { maxValueBytes: 1024, maxPathLength: 256, maxMetadataBytes: 1024 },
    latency,
    audit: createAuditLog(db),
    reportCorruptShare: deps.reportCorruptShare,
  });
  const jobs = createJobRunner({ db, log: quiet, kinds: lifecycleJobKinds(deps) });
  cleanup.push(() => jobs.stop());
  const lifecycle = createLifecycleService({ ...deps, vaults, jobs, plan: "enterprise", trustDomain: () => undefined });

  const vault = await vaults.create(admin, { name: "race" }, { mode: custodyMode("2of3_multi_hsm"), holders: ["gcp", "aws", "azure"] });
  const keks = async () => Object.fromEntries((await db.query<{ provider: string; kek_id: string }>("SELECT provider, kek_id FROM vault_mpc_keks WHERE vault_id = $1", [vault.id])).map((r) => [r.provider, r.kek_id]));
  const oldKeks = await keks();

  armed = true;
  const writing = secrets.write(admin, vault.id, "raced", { value: Buffer.from("written across the switch") });
  await atGate; // sealed under the old layout, not committed
  const job = await lifecycle.start(admin, vault.id, { kind: "rotate" });
  assert.equal(job.total, 0, "the write had not committed when the rotation fixed its versions");
  const newKeks = await keks();
  assert.notEqual(newKeks.aws, oldKeks.aws);
  open();
  const written = await writing;

  const [row] = await db.query<{ id: string; mpc_generation: number }>("SELECT id, mpc_generation FROM secret_versions WHERE vault_id = $1", [vault.id]);
  assert.equal(row!.mpc_generation, 2, "the write committed under the old layout");
  const shares = await db.query<{ provider: string; kek_id: string }>("SELECT provider, kek_id FROM secret_dek_shares WHERE version_id = $1", [row!.id]);
  assert.deepEqual(Object.fromEntries(shares.map((s) => [s.provider, s.kek_id])), newKeks);

  for (let i = 0; i < 1000 && (await lifecycle.job(admin, vault.id, job.id)).status !== "completed"; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.equal((await lifecycle.job(admin, vault.id, job.id)).status, "completed");
  const read = await secrets.read(admin, vault.id, "raced", {});
  assert.equal(read.value.toString(), "written across the switch");
  assert.equal(read.version, written.version);
});
