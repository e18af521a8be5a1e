/**
 * The composition root: opens the database; under one advisory lock runs migrations, checks the local key files
 * against the database (config/key-files.ts) and builds the providers; builds the services, starts HTTP, and
 * only then runs the first-start bootstrap (under the same lock), so that a start that cannot listen creates no
 * admin key nobody saw.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { createAgentService } from "./agents/agent-service.js";
import { createAuthService } from "./auth/auth-service.js";
import { createAuthenticator } from "./auth/authenticate.js";
import { bootstrap } from "./auth/bootstrap.js";
import { addSigningKey, ensureSigningKey, loadSigningKeys } from "./auth/signing-keys.js";
import { isLoopback, SettingsError, type Settings } from "./config/env.js";
import type { Database } from "./db/database.js";
import { migrate } from "./db/migrate.js";
import { openPglite } from "./db/pglite.js";
import { openPostgres } from "./db/postgres.js";
import { createHealthMonitor, type CorruptShareEvent } from "./health/health-monitor.js";
import { buildApp } from "./http/app.js";
import { BUILD_HINT, dashboardBuilt } from "./http/dashboard.js";
import type { FastifyInstance } from "fastify";
import type { Logger, ServerLogger } from "./log.js";
import { loadDeployment, type Deployment } from "./config/deployment.js";
import { buildCheckedProviders, keyFilesOf } from "./config/key-files.js";
import type { ProviderRegistry } from "./providers/registry.js";
import { ProviderError, type KeyProvider } from "./providers/provider.js";
import { createAuditLog, type AuditChaining } from "./audit/audit.js";
import { createAuditReader } from "./audit/audit-reader.js";
import { ensureAuditChainKey, loadAuditChainKey, startNewAuditChain } from "./audit/chain-key.js";
import { createSecretService } from "./secrets/secret-service.js";
import { LatencyTracker } from "./envelope/latency.js";
import { createMpcService } from "./mpc/mpc-service.js";
import { CMEK_ROTATION_JOB, createCmekService } from "./cmek/cmek-service.js";
import { createJobRunner } from "./jobs/job-runner.js";
import { lifecycleJobKinds } from "./mpc/lifecycle-jobs.js";
import { createLifecycleService } from "./mpc/lifecycle-service.js";
import { createVaultService } from "./vaults/vault-service.js";
import { createMemberService } from "./orgs/member-service.js";
import { createPolicyService } from "./policies/policy-service.js";
import { createMetrics } from "./observability/metrics.js";
import { postgresRateLimitStore } from "./http/rate-limit-store.js";
import { createShareService } from "./shares/share-service.js";

/** Arbitrary, fixed: the advisory lock under which instances migrate and bootstrap one at a time. */
const STARTUP_LOCK_ID = 0x5348_4456;

/** Options no setting reaches: `npm start` never passes them. */
export interface StartOptions {
  /** The HTTP benchmark's baseline only (bench/unchained-server.ts): audit events written without the chain. */
  unchainedAuditForBenchmark?: boolean;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The start-up summary: plain lines for the operator (`[shardvault] …`) among the JSON logs, saying what the
 * server runs on and where it listens; the admin key line of a first start goes with it (auth/bootstrap.ts).
 */
interface Summary {
  info(message: string): void;
  warn(message: string): void;
}

const summaryOf = (log: Logger): Summary => ({
  info: (message) => log.raw(`[shardvault] ${message}`),
  warn: (message) => log.raw(`[shardvault] WARNING: ${message}`),
});

function describeProviders(deployment: Deployment, providers: ProviderRegistry, unusable: ReadonlyMap<string, string>, settings: Settings, say: Summary): void {
  const slots = deployment.slots.map(({ slot, backend, config }) => {
    const shared = backend.sharedKek?.(config) ? ", one shared KEK for all vaults" : "";
    return `${slot} (${providers.get(slot)!.backend}${shared})`;
  });
  say.info(`key providers: ${slots.join(", ")}; default: ${deployment.defaultProvider}; plan: ${deployment.plan}`);
  for (const [slot, reason] of unusable) say.warn(`provider slot ${slot} is unavailable: ${reason}`);
  warnAboutKeyFiles(deployment, settings, say);
  if (deployment.sharedTrustDomain) say.warn("two provider slots share one trust domain (allow_shared_trust_domain): health reports degraded");
}

/** Local key files, from the development default or a configuration file: who holds them and the data decrypts. */
function warnAboutKeyFiles(deployment: Deployment, settings: Settings, say: Summary): void {
  const keyFiles = keyFilesOf(deployment);
  if (keyFiles.length === 0) return;
  const why = deployment.development ? "no SHARDVAULT_CONFIG: " : "";
  say.warn(`${why}the local key providers (${keyFiles.map((k) => k.slot).join(", ")}) are for development only: their keys are plain files (${keyFiles.map((k) => k.file).join(", ")})`);
  const reach = keyFiles.length === deployment.slots.length ? "every secret" : "what those slots protect";
  const inDataDir = (file: string) => !relative(settings.dataDir, file).startsWith("..");
  if (!settings.databaseUrl && keyFiles.every((k) => inDataDir(k.file))) {
    say.warn(`a copy of ${settings.dataDir} holds keys and database together and decrypts ${reach}`);
  } else {
    say.warn(`whoever has these key files and a copy of the database decrypts ${reach}`);
  }
}

/**
 * Loads a key that the default slot wraps (the token-signing key, the audit chain key). When the slot wrapping
 * it is unavailable (say its key material was destroyed), a new one is made at the first slot that can wrap it,
 * default first, so the server still starts and MPC vaults still read from their other slots.
 */
async function loadOrReplace<T>(
  what: string,
  load: () => Promise<T>,
  replaceAt: (provider: KeyProvider) => Promise<unknown>,
  db: Database,
  providers: ProviderRegistry,
  log: Logger,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    log.warn(`the ${what} cannot be unwrapped (${error.message}): making a new one at another slot`);
  }
  const candidates = [providers.get(providers.defaultSlot)!, ...providers.all().filter((p) => p.slot !== providers.defaultSlot)];
  await db.withAdvisoryLock(STARTUP_LOCK_ID, async () => {
    for (const provider of candidates) {
      try {
        await replaceAt(provider);
        return;
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
      }
    }
    throw new Error(`no key provider slot can wrap a new ${what}`);
  });
  return load();
}

async function openDatabase(settings: Settings): Promise<Database> {
  return settings.databaseUrl ? openPostgres(settings.databaseUrl) : openPglite(settings.dataDir);
}

/** Binds the port; a port in use is the operator's to fix, said in one line. */
async function listen(app: FastifyInstance, settings: Settings): Promise<void> {
  try {
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new SettingsError(`cannot listen: ${settings.host}:${settings.port} is already in use (stop what holds it, or set HOST or PORT)`);
  }
}

export async function startServer(settings: Settings, log: ServerLogger, options: StartOptions = {}): Promise<RunningServer> {
  if (!isLoopback(settings.host) && !settings.tls && !settings.tlsTerminatedUpstream) {
    throw new SettingsError(
      `HOST ${settings.host} is not loopback: set SHARDVAULT_TLS_CERT and SHARDVAULT_TLS_KEY, or SHARDVAULT_TLS_TERMINATED_UPSTREAM=1 behind a TLS proxy`,
    );
  }
  const deployment = loadDeployment(settings, process.env, log);
  const db = await openDatabase(settings);
  const metrics = createMetrics();
  // On PostgreSQL every instance counts against the same rate-limit counters.
  const rateLimitStore = db.kind === "postgres" ? postgresRateLimitStore(db) : undefined;
  let providers: ProviderRegistry | undefined;
  let built: FastifyInstance | undefined;
  const say = summaryOf(log);
  try {
    say.info(`database: ${db.description}`);
    // Under the lock: the database says which slots hold key material before any key file is created.
    const started = await db.withAdvisoryLock(STARTUP_LOCK_ID, async () => {
      const ran = await migrate(db);
      if (ran.length > 0) say.info(`applied migrations: ${ran.join(", ")}`);
      const checked = await buildCheckedProviders(db, deployment, { env: process.env, log, observe: metrics.providerCall });
      providers = checked.registry;
      await ensureSigningKey(db, checked.registry.get(checked.registry.defaultSlot)!);
      await ensureAuditChainKey(db, checked.registry.get(checked.registry.defaultSlot)!);
      return checked;
    });
    providers = started.registry;
    describeProviders(deployment, providers, started.unusable, settings, say);
    // Tokens signed before a replacement still verify (public keys are stored); audit events chained before one
    // are reported by verification as from before the current chain (chain-key.ts).
    const signingKeys = await loadOrReplace("token signing key", () => loadSigningKeys(db, providers!), (p) => addSigningKey(db, p), db, providers, log);
    const chainKey = await loadOrReplace("audit chain key", () => loadAuditChainKey(db, providers!), (p) => startNewAuditChain(db, p), db, providers, log);
    if (options.unchainedAuditForBenchmark) log.warn("audit events are NOT chained: a benchmark baseline, never a deployment");
    const chaining: AuditChaining = options.unchainedAuditForBenchmark ? { unchainedForBenchmark: true } : { key: chainKey };
    const audit = createAuditLog(db, chaining, metrics.auditBatch);
    const health = createHealthMonitor({ db, providers, log, degraded: deployment.sharedTrustDomain });
    await health.refresh();
    const vaults = createVaultService({ db, providers, audit });
    const latency = new LatencyTracker(metrics.hedge);
    const reportCorruptShare = (event: CorruptShareEvent) => health.reportCorruptShare(event);
    const secrets = createSecretService({
      db,
      providers,
      vaults,
      limits: settings.limits,
      latency,
      audit,
      reportCorruptShare,
    });
    const lifecycleDeps = { db, providers, latency, reportCorruptShare, audit, log };
    const jobs = createJobRunner({
      db,
      audit,
      log,
      kinds: [CMEK_ROTATION_JOB, ...lifecycleJobKinds(lifecycleDeps)],
      observer: metrics.jobs,
      ...(settings.jobPauseAfterBatches ? { pauseAfterBatches: settings.jobPauseAfterBatches } : {}),
    });
    const trustDomains = new Map(deployment.slots.map(({ slot, backend, config }) => [slot, backend.trustDomain(config)]));
    const mpc = createMpcService({ db, providers, vaults, jobs, plan: deployment.plan, reprotectMaxVersions: deployment.reprotectMaxVersions, audit, log });
    const lifecycle = createLifecycleService({ ...lifecycleDeps, vaults, jobs, plan: deployment.plan, trustDomain: (slot) => trustDomains.get(slot) });
    const app = buildApp({
      db,
      authenticate: createAuthenticator(db, signingKeys),
      auth: createAuthService({ db, keys: signingKeys, audit }),
      signingKeys,
      agents: createAgentService({ db, audit }),
      members: createMemberService({ db, keys: signingKeys, audit }),
      policies: createPolicyService({ db, vaults, audit }),
      audit,
      auditReader: createAuditReader({ db, chainKey }),
      vaults,
      secrets,
      shares: createShareService({ db, secrets, audit }),
      mpc,
      lifecycle,
      cmek: createCmekService({ db, providers, vaults, jobs, plan: deployment.plan, latency, reportCorruptShare, audit }),
      health,
      limits: settings.limits,
      ...(settings.publicUrl ? { publicUrl: settings.publicUrl } : {}),
      log,
      metrics,
      metricsToken: deployment.metricsToken,
      rateLimits: deployment.rateLimits,
      rateLimitStore,
      trustProxy: deployment.trustProxy,
      ...(settings.tls ? { https: { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) } } : {}),
    });
    built = app;
    // Jobs whose runner stopped (a crash, a restart) are picked up again, or reported as waiting for their inputs.
    await jobs.sweep();
    await listen(app, settings);
    // The first start's admin key is created and printed only now that the server can be reached with it.
    await db.withAdvisoryLock(STARTUP_LOCK_ID, () => bootstrap(db, settings.adminApiKey, log));
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
    const url = `${settings.tls ? "https" : "http"}://${host}:${port}`;
    say.info(`listening on ${url}`);
    say.info(dashboardBuilt() ? `dashboard: ${url}/` : `dashboard: not built (${BUILD_HINT})`);
    return {
      url,
      async close() {
        health.stop();
        await app.close(); // stops accepting, lets in-flight requests finish
        await jobs.stop(); // running jobs end after their current batch and resume after a restart
        await Promise.all(providers!.all().map((p) => p.close()));
        rateLimitStore?.stop();
        await db.close();
      },
    };
  } catch (error) {
    await built?.close().catch(() => undefined);
    await Promise.all((providers?.all() ?? []).map((p) => p.close().catch(() => undefined)));
    rateLimitStore?.stop();
    await db.close().catch(() => undefined);
    throw error;
  }
}
