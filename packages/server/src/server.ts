/**
 * The composition root: opens the database, runs migrations and first-start bootstrap under one advisory
 * lock, builds the providers and services, and starts HTTP.
 */
import { readFileSync } from "node:fs";
import { createAgentService } from "./agents/agent-service.js";
import { createAuthService } from "./auth/auth-service.js";
import { createAuthenticator } from "./auth/authenticate.js";
import { bootstrap } from "./auth/bootstrap.js";
import { addSigningKey, ensureSigningKey, loadSigningKeys, type SigningKeys } from "./auth/signing-keys.js";
import { isLoopback, SettingsError, type Settings } from "./config/env.js";
import type { Database } from "./db/database.js";
import { migrate } from "./db/migrate.js";
import { openPglite } from "./db/pglite.js";
import { openPostgres } from "./db/postgres.js";
import { createHealthMonitor, type CorruptShareEvent } from "./health/health-monitor.js";
import { buildApp } from "./http/app.js";
import type { Logger } from "./log.js";
import { buildProviders, loadDeployment, type Deployment } from "./config/deployment.js";
import type { ProviderRegistry } from "./providers/registry.js";
import { ProviderError } from "./providers/provider.js";
import { createAuditLog } from "./audit/audit.js";
import { createSecretService } from "./secrets/secret-service.js";
import { LatencyTracker } from "./envelope/latency.js";
import { createMpcService } from "./mpc/mpc-service.js";
import { CMEK_ROTATION_JOB, createCmekService } from "./cmek/cmek-service.js";
import { createJobRunner } from "./jobs/job-runner.js";
import { lifecycleJobKinds } from "./mpc/lifecycle-jobs.js";
import { createLifecycleService } from "./mpc/lifecycle-service.js";
import { createVaultService } from "./vaults/vault-service.js";

/** Arbitrary, fixed: the advisory lock under which instances migrate and bootstrap one at a time. */
const STARTUP_LOCK_ID = 0x5348_4456;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

function describeProviders(deployment: Deployment, providers: ProviderRegistry, settings: Settings, log: Logger): void {
  const slots = deployment.slots.map(({ slot, backend, config }) => {
    const shared = backend.sharedKek?.(config) ? ", one shared KEK for all vaults" : "";
    return `${slot} (${providers.get(slot)!.backend}${shared})`;
  });
  log.info(`key providers: ${slots.join(", ")}; default: ${deployment.defaultProvider}; plan: ${deployment.plan}`);
  if (deployment.development) {
    log.warn("no SHARDVAULT_CONFIG: the local key providers are for development only, their key files sit beside the database");
    log.warn(`a copy of ${settings.dataDir} holds keys and database together and decrypts every secret`);
  }
  if (deployment.sharedTrustDomain) log.warn("two provider slots share one trust domain (allow_shared_trust_domain): health reports degraded");
}

/**
 * The token-signing keys. When the slot wrapping the newest one is unavailable (say its key material was
 * destroyed), a new one is made at the first slot that can wrap it, default first, so the server still starts
 * and MPC vaults still read from their other slots; tokens signed before still verify (public keys are stored).
 */
async function loadOrReplaceSigningKeys(db: Database, providers: ProviderRegistry, log: Logger): Promise<SigningKeys> {
  try {
    return await loadSigningKeys(db, providers);
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    log.warn(`the token signing key cannot be unwrapped (${error.message}): making a new one at another slot`);
  }
  const candidates = [providers.get(providers.defaultSlot)!, ...providers.all().filter((p) => p.slot !== providers.defaultSlot)];
  await db.withAdvisoryLock(STARTUP_LOCK_ID, async () => {
    for (const provider of candidates) {
      try {
        return await addSigningKey(db, provider);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
      }
    }
    throw new Error("no key provider slot can wrap a new token signing key");
  });
  return loadSigningKeys(db, providers);
}

async function openDatabase(settings: Settings): Promise<Database> {
  return settings.databaseUrl ? openPostgres(settings.databaseUrl) : openPglite(settings.dataDir);
}

export async function startServer(settings: Settings, log: Logger): Promise<RunningServer> {
  if (!isLoopback(settings.host) && !settings.tls && !settings.tlsTerminatedUpstream) {
    throw new SettingsError(
      `HOST ${settings.host} is not loopback: set SHARDVAULT_TLS_CERT and SHARDVAULT_TLS_KEY, or SHARDVAULT_TLS_TERMINATED_UPSTREAM=1 behind a TLS proxy`,
    );
  }
  const deployment = loadDeployment(settings, process.env, log);
  const db = await openDatabase(settings);
  let providers: ProviderRegistry | undefined;
  try {
    log.info(`database: ${db.description}`);
    providers = await buildProviders(deployment, { env: process.env, log });
    describeProviders(deployment, providers, settings, log);
    const registry = providers;
    await db.withAdvisoryLock(STARTUP_LOCK_ID, async () => {
      const ran = await migrate(db);
      if (ran.length > 0) log.info(`applied migrations: ${ran.join(", ")}`);
      await bootstrap(db, settings.adminApiKey, log);
      await ensureSigningKey(db, registry.get(registry.defaultSlot)!);
    });
    const signingKeys = await loadOrReplaceSigningKeys(db, registry, log);
    const health = createHealthMonitor({ db, providers, log, degraded: deployment.sharedTrustDomain });
    await health.refresh();
    const vaults = createVaultService({ db, providers });
    const latency = new LatencyTracker();
    const reportCorruptShare = (event: CorruptShareEvent) => health.reportCorruptShare(event);
    const secrets = createSecretService({
      db,
      providers,
      vaults,
      limits: settings.limits,
      latency,
      audit: createAuditLog(db),
      reportCorruptShare,
    });
    const lifecycleDeps = { db, providers, latency, reportCorruptShare, log };
    const jobs = createJobRunner({
      db,
      log,
      kinds: [CMEK_ROTATION_JOB, ...lifecycleJobKinds(lifecycleDeps)],
      ...(settings.jobPauseAfterBatches ? { pauseAfterBatches: settings.jobPauseAfterBatches } : {}),
    });
    const trustDomains = new Map(deployment.slots.map(({ slot, backend, config }) => [slot, backend.trustDomain(config)]));
    const mpc = createMpcService({ db, providers, vaults, jobs, plan: deployment.plan, reprotectMaxVersions: deployment.reprotectMaxVersions, log });
    const lifecycle = createLifecycleService({ ...lifecycleDeps, vaults, jobs, plan: deployment.plan, trustDomain: (slot) => trustDomains.get(slot) });
    const app = buildApp({
      db,
      authenticate: createAuthenticator(db, signingKeys),
      auth: createAuthService({ db, keys: signingKeys }),
      signingKeys,
      agents: createAgentService({ db }),
      vaults,
      secrets,
      mpc,
      lifecycle,
      cmek: createCmekService({ db, providers, vaults, jobs, plan: deployment.plan, latency, reportCorruptShare }),
      health,
      limits: settings.limits,
      log,
      ...(settings.tls ? { https: { cert: readFileSync(settings.tls.cert), key: readFileSync(settings.tls.key) } } : {}),
    });
    // Jobs whose runner stopped (a crash, a restart) are picked up again, or reported as waiting for their inputs.
    await jobs.sweep();
    await app.listen({ host: settings.host, port: settings.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : settings.port;
    const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
    const url = `${settings.tls ? "https" : "http"}://${host}:${port}`;
    log.info(`listening on ${url}`);
    return {
      url,
      async close() {
        health.stop();
        await app.close(); // stops accepting, lets in-flight requests finish
        await jobs.stop(); // running jobs end after their current batch and resume after a restart
        await Promise.all(providers!.all().map((p) => p.close()));
        await db.close();
      },
    };
  } catch (error) {
    await Promise.all((providers?.all() ?? []).map((p) => p.close().catch(() => undefined)));
    await db.close().catch(() => undefined);
    throw error;
  }
}
