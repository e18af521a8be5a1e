/** What the HTTP layer is built from: the services and settings the composition root hands to the app and its routes. */
import type { AgentService } from "../agents/agent-service.js";
import type { AuditLog } from "../audit/audit.js";
import type { AuditReader } from "../audit/audit-reader.js";
import type { Authenticator } from "../auth/authenticate.js";
import type { AuthService } from "../auth/auth-service.js";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { CmekService } from "../cmek/cmek-service.js";
import type { TrustProxy } from "../config/deployment.js";
import type { Limits } from "../config/env.js";
import type { RateLimits } from "../config/rate-limits.js";
import type { Database } from "../db/database.js";
import type { HealthMonitor } from "../health/health-monitor.js";
import type { ServerLogger } from "../log.js";
import type { LifecycleService } from "../mpc/lifecycle-service.js";
import type { MpcService } from "../mpc/mpc-service.js";
import type { Metrics } from "../observability/metrics.js";
import type { MemberService } from "../orgs/member-service.js";
import type { PolicyService } from "../policies/policy-service.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { ShareService } from "../shares/share-service.js";
import type { VaultService } from "../vaults/vault-service.js";
import type { SharedRateLimitStore } from "./rate-limit-store.js";

export interface HttpDeps {
  db: Database;
  authenticate: Authenticator;
  auth: AuthService;
  signingKeys: SigningKeys;
  agents: AgentService;
  members: MemberService;
  policies: PolicyService;
  audit: AuditLog;
  auditReader: AuditReader;
  vaults: VaultService;
  secrets: SecretService;
  shares: ShareService;
  mpc: MpcService;
  lifecycle: LifecycleService;
  cmek: CmekService;
  health: HealthMonitor;
  limits: Limits;
  /** SHARDVAULT_PUBLIC_URL: the base of the links the server makes (share links); else the request's origin. */
  publicUrl?: string;
  log: ServerLogger;
  metrics: Metrics;
  /** `metrics.bearer_token_env`'s value: GET /metrics then needs it as a bearer token. */
  metricsToken: string | undefined;
  https?: { cert: Buffer; key: Buffer };
  rateLimits: RateLimits;
  /** Counters shared by every instance (PostgreSQL); without one, each process counts alone. */
  rateLimitStore: SharedRateLimitStore | undefined;
  trustProxy: TrustProxy;
}
