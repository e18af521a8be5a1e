/**
 * The server's services composed in the test's own process (as server.ts composes them, without HTTP), over
 * PGlite in a temporary folder or a fresh PostgreSQL database, with the three local provider slots. For tests
 * that must order events inside a job or a request (hold one query or provider call), count database queries,
 * or look at a buffer a provider returned.
 *
 *   const app = await composeInProcess("pglite", { wrapProvider: (p) => (p.slot === "gcp" ? held(p) : p) });
 *   const vault = await app.vaults.create(app.principal, { name: "v" });
 *   …
 *   await app.close();
 */
import { createSecretKey, randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Principal } from "../../src/auth/principal.js";
import { createAuditLog } from "../../src/audit/audit.js";
import { CMEK_ROTATION_JOB, createCmekService } from "../../src/cmek/cmek-service.js";
import type { Database } from "../../src/db/database.js";
import { migrate } from "../../src/db/migrate.js";
import { openPglite } from "../../src/db/pglite.js";
import { openPostgres } from "../../src/db/postgres.js";
import { LatencyTracker } from "../../src/envelope/latency.js";
import type { CorruptShareEvent } from "../../src/health/health-monitor.js";
import { createJobRunner } from "../../src/jobs/job-runner.js";
import type { Logger } from "../../src/log.js";
import { lifecycleJobKinds } from "../../src/mpc/lifecycle-jobs.js";
import { createLifecycleService } from "../../src/mpc/lifecycle-service.js";
import { createMpcService } from "../../src/mpc/mpc-service.js";
import { createOrganization } from "../../src/orgs/org-service.js";
import { createLocalProvider } from "../../src/providers/local.js";
import type { KeyProvider } from "../../src/providers/provider.js";
import { createRegistry, type ProviderRegistry } from "../../src/providers/registry.js";
import { createSecretService } from "../../src/secrets/secret-service.js";
import { createVaultService } from "../../src/vaults/vault-service.js";
import { DEV_SLOTS, makeTempDir, provisionLocalKeys, type DatabaseKind } from "./harness.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";

/** A logger that keeps what it is told, for assertions. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m), raw: (m) => lines.push(m) };
}

/** Opens a fresh database of that kind, migrated: PGlite in a temporary folder, or a new PostgreSQL database. */
export async function openTestDatabase(kind: DatabaseKind, label = "inproc"): Promise<{ db: Database; pg?: TestDatabase; close(): Promise<void> }> {
  const pg = kind === "postgres" ? await createTestDatabase(label) : undefined;
  const db = pg ? await openPostgres(pg.url, 5) : await openPglite(makeTempDir("sv-inproc-"));
  await migrate(db);
  return {
    db,
    ...(pg ? { pg } : {}),
    async close() {
      await db.close();
      await pg?.drop();
    },
  };
}

export interface InProcess {
  db: Database;
  providers: ProviderRegistry;
  /** The admin user of a fresh organization. */
  principal: Principal;
  vaults: ReturnType<typeof createVaultService>;
  secrets: ReturnType<typeof createSecretService>;
  mpc: ReturnType<typeof createMpcService>;
  cmek: ReturnType<typeof createCmekService>;
  jobs: ReturnType<typeof createJobRunner>;
  lifecycle: ReturnType<typeof createLifecycleService>;
  corruptShares: CorruptShareEvent[];
  log: ReturnType<typeof memoryLogger>;
  close(): Promise<void>;
}

export interface ComposeOptions {
  /** Replaces a slot's provider (e.g. to hold or observe its calls). */
  wrapProvider?: (provider: KeyProvider) => KeyProvider;
  /** Replaces the database the services see (e.g. to hold or count queries). */
  wrapDatabase?: (db: Database) => Database;
  /** Jobs wait after this many batches until the runner stops (SHARDVAULT_JOB_PAUSE_AFTER_BATCHES). */
  jobPauseAfterBatches?: number;
}

export async function composeInProcess(kind: DatabaseKind, opts: ComposeOptions = {}): Promise<InProcess> {
  const database = await openTestDatabase(kind);
  const db = opts.wrapDatabase ? opts.wrapDatabase(database.db) : database.db;
  const keysDir = provisionLocalKeys();
  const wrap = opts.wrapProvider ?? ((p: KeyProvider) => p);
  const providers = createRegistry(
    DEV_SLOTS.map((slot) => wrap(createLocalProvider(slot, join(keysDir, `${slot}.key`)))),
    "gcp",
  );
  const org = await db.transaction((tx) => createOrganization(tx, "in-process"));
  const principal: Principal = { type: "user", id: org.adminUserId, orgId: org.orgId, scopes: [] };
  const log = memoryLogger();
  const corruptShares: CorruptShareEvent[] = [];
  const reportCorruptShare = (event: CorruptShareEvent) => void corruptShares.push(event);
  const latency = new LatencyTracker();
  // The chain key that the server keeps wrapped by the default provider; here, a fresh one in memory.
  const audit = createAuditLog(db, { key: createSecretKey(randomBytes(32)) });
  const vaults = createVaultService({ db, providers, audit });
  const limits = { maxValueBytes: 64 * 1024, maxPathLength: 512, maxMetadataBytes: 8 * 1024 };
  const lifecycleDeps = { db, providers, latency, reportCorruptShare, audit, log };
  const jobs = createJobRunner({
    db,
    audit,
    log,
    kinds: [CMEK_ROTATION_JOB, ...lifecycleJobKinds(lifecycleDeps)],
    ...(opts.jobPauseAfterBatches ? { pauseAfterBatches: opts.jobPauseAfterBatches } : {}),
  });
  return {
    db,
    providers,
    principal,
    vaults,
    secrets: createSecretService({ db, providers, vaults, limits, latency, audit, reportCorruptShare }),
    mpc: createMpcService({ db, providers, vaults, jobs, plan: "enterprise", reprotectMaxVersions: 1000, audit, log }),
    cmek: createCmekService({ db, providers, vaults, jobs, plan: "enterprise", latency, reportCorruptShare, audit }),
    jobs,
    lifecycle: createLifecycleService({ ...lifecycleDeps, vaults, jobs, plan: "enterprise", trustDomain: () => undefined }),
    corruptShares,
    log,
    async close() {
      await jobs.stop();
      await Promise.all(providers.all().map((p) => p.close()));
      await database.close();
    },
  };
}
