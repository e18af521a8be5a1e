/**
 * The server's Prometheus metrics (prom-client), in a registry of their own. Labels are bounded vocabularies —
 * route patterns, methods, statuses, slot names, operations, outcomes, job kinds — never a value, key, share,
 * token, id or a URL as typed. The domain reports through the narrow observers it declares (providers/observed.ts,
 * the job runner, the audit log's group commit, the quorum's hedges); this module implements them.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { JobObserver } from "../jobs/job-runner.js";
import type { ProviderCallObserver } from "../providers/observed.js";

export type HedgeReason = "slow" | "failure";

export interface Metrics {
  readonly registry: Registry;
  /** A finished HTTP request; `route` is the route pattern (`/v1/vaults/:vault_id`), `unmatched` when none. */
  request(method: string, route: string | undefined, status: number, seconds: number): void;
  providerCall: ProviderCallObserver;
  /** The quorum asked one more slot: the ones asked were slow (past their p95) or one failed. */
  hedge(reason: HedgeReason): void;
  /** One group-commit INSERT of the audit log wrote this many events. */
  auditBatch(size: number): void;
  jobs: JobObserver;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const httpRequests = new Counter({ name: "shardvault_http_requests_total", help: "HTTP requests answered, by route pattern, method and status", labelNames: ["method", "route", "status"], registers });
  const httpDuration = new Histogram({ name: "shardvault_http_request_duration_seconds", help: "Time to answer an HTTP request, by route pattern and method", labelNames: ["method", "route"], buckets: LATENCY_BUCKETS, registers });
  const providerCalls = new Counter({ name: "shardvault_provider_calls_total", help: "Key provider calls, by slot, operation and outcome", labelNames: ["slot", "operation", "outcome"], registers });
  const providerDuration = new Histogram({ name: "shardvault_provider_call_duration_seconds", help: "Key provider call latency, by slot, operation and outcome", labelNames: ["slot", "operation", "outcome"], buckets: LATENCY_BUCKETS, registers });
  const hedges = new Counter({ name: "shardvault_quorum_hedges_total", help: "Extra share requests of MPC reads: a slot was slow (past its p95) or failed", labelNames: ["reason"], registers });
  const auditBatches = new Histogram({ name: "shardvault_audit_batch_size", help: "Audit events written by one group-commit INSERT", buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512], registers });
  const jobItems = new Counter({ name: "shardvault_job_items_processed_total", help: "Items (secret versions) background jobs have committed, by job kind", labelNames: ["kind"], registers });
  const jobsRunning = new Gauge({ name: "shardvault_jobs_running", help: "Background jobs this instance runs now, by kind", labelNames: ["kind"], registers });
  const jobsEnded = new Counter({ name: "shardvault_jobs_ended_total", help: "Background job runs ended on this instance, by kind and outcome (stopped: the instance stopped, the job resumes later)", labelNames: ["kind", "outcome"], registers });

  return {
    registry,
    request(method, route, status, seconds) {
      const pattern = route ?? "unmatched";
      httpRequests.inc({ method, route: pattern, status: String(status) });
      httpDuration.observe({ method, route: pattern }, seconds);
    },
    providerCall(slot, operation, outcome, seconds) {
      providerCalls.inc({ slot, operation, outcome });
      providerDuration.observe({ slot, operation, outcome }, seconds);
    },
    hedge: (reason) => hedges.inc({ reason }),
    auditBatch: (size) => auditBatches.observe(size),
    jobs: {
      started: (kind) => jobsRunning.inc({ kind }),
      batch: (kind, items) => jobItems.inc({ kind }, items),
      ended(kind, outcome) {
        jobsRunning.dec({ kind });
        jobsEnded.inc({ kind, outcome });
      },
    },
  };
}
