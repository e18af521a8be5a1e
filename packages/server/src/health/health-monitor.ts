/**
 * Health, refreshed in the background so that `GET /v1/health` answers from memory (no database or provider
 * call per request).
 */
import type { Queryable } from "../db/database.js";
import type { ProviderHealth, ProviderStatus } from "../providers/provider.js";
import type { ProviderRegistry } from "../providers/registry.js";
import type { Logger } from "../log.js";

export interface SlotHealth extends ProviderHealth {
  slot: string;
  backend: string;
  development: boolean;
  /** Stored shares of this slot that failed their integrity check since start-up. */
  corruptShares: number;
}

export interface CorruptShareEvent {
  slot: string;
  vaultId: string;
  path: string;
  version: number;
}

export interface HealthSnapshot {
  status: "healthy" | "degraded";
  database: "ok" | "unavailable";
  hsm: { status: ProviderStatus; providers: SlotHealth[] };
  checkedAt: string;
}

export interface HealthMonitor {
  current(): HealthSnapshot;
  /** Logs a corrupt stored share (where, never its bytes) and counts it in the slot's health. */
  reportCorruptShare(event: CorruptShareEvent): void;
  refresh(): Promise<HealthSnapshot>;
  stop(): void;
}

export function createHealthMonitor(deps: {
  db: Queryable;
  providers: ProviderRegistry;
  log: Logger;
  degraded?: boolean;
  intervalMs?: number;
}): HealthMonitor {
  const corrupt = new Map<string, number>();
  let snapshot: HealthSnapshot = {
    status: "degraded",
    database: "unavailable",
    hsm: { status: "unavailable", providers: [] },
    checkedAt: new Date(0).toISOString(),
  };

  async function providerHealth(): Promise<SlotHealth[]> {
    return Promise.all(
      deps.providers.all().map(async (provider): Promise<SlotHealth> => {
        const base = { slot: provider.slot, backend: provider.backend, development: provider.development, corruptShares: corrupt.get(provider.slot) ?? 0 };
        try {
          return { ...base, ...(await provider.health()) };
        } catch {
          return { ...base, status: "unavailable", latencyMs: 0 };
        }
      }),
    );
  }

  async function refresh(): Promise<HealthSnapshot> {
    const [database, providers] = await Promise.all([
      deps.db.query("SELECT 1").then(
        () => "ok" as const,
        () => "unavailable" as const,
      ),
      providerHealth(),
    ]);
    const ok = providers.filter((p) => p.status === "ok").length;
    // Two slots in one trust domain are one party: the deployment's split is weaker than it looks.
    const hsmStatus: ProviderStatus = ok === 0 ? "unavailable" : ok < providers.length || deps.degraded ? "degraded" : "ok";
    snapshot = {
      status: database === "ok" && hsmStatus === "ok" && !deps.degraded ? "healthy" : "degraded",
      database,
      hsm: { status: hsmStatus, providers },
      checkedAt: new Date().toISOString(),
    };
    return snapshot;
  }

  const timer = setInterval(() => void refresh().catch(() => undefined), deps.intervalMs ?? 15_000);
  timer.unref();
  return {
    current: () => snapshot,
    refresh,
    stop: () => clearInterval(timer),
    reportCorruptShare(event) {
      corrupt.set(event.slot, (corrupt.get(event.slot) ?? 0) + 1);
      deps.log.error(`stored share of slot ${event.slot} failed its integrity check (vault ${event.vaultId}, path ${event.path}, version ${event.version})`);
      for (const slot of snapshot.hsm.providers) if (slot.slot === event.slot) slot.corruptShares = corrupt.get(event.slot)!;
    },
  };
}
