/**
 * The scope each authenticated route needs: one table for the whole API. A key, agent or token with scopes may
 * call a route only when it holds that scope (or `*`); without scopes it may call every route its role and
 * policies allow. `*` in the table means credentials that scopes do not narrow (the vocabulary has no word for
 * managing members or one's own password, and a narrowed key must not be able to widen itself that way). `null`:
 * any authenticated caller (what the route does is then decided by role or ownership alone).
 *
 * A route missing here fails at start-up (app.ts): a new route cannot slip through unscoped.
 */
import type { Scope } from "@shardvault/api";

export interface RouteScope {
  scope: Scope | null;
  /** Value reads audit every refusal themselves, as `secret.read_refused`; the HTTP layer does not add `access.denied`. */
  auditsRefusals?: true;
}

export const ROUTE_SCOPES: Record<string, RouteScope> = {
  // Auth and the caller itself
  "POST /v1/auth/api-keys": { scope: null }, // a key within the caller's own scopes (auth-service)
  "GET /v1/auth/api-keys": { scope: null },
  "DELETE /v1/auth/api-keys/:key_id": { scope: null },
  "GET /v1/auth/me": { scope: null },
  "PATCH /v1/auth/me": { scope: "*" },
  "POST /v1/auth/change-password": { scope: "*" },
  "GET /v1/agents/me": { scope: null },

  // Organization members
  "GET /v1/org/members": { scope: null },
  "POST /v1/org/invite": { scope: "*" },
  "PATCH /v1/org/members/:user_id": { scope: "*" },
  "DELETE /v1/org/members/:user_id": { scope: "*" },

  // Agents
  "POST /v1/agents": { scope: "agents:write" },
  "GET /v1/agents": { scope: "agents:read" },
  "GET /v1/agents/:agent_id": { scope: "agents:read" },
  "PATCH /v1/agents/:agent_id": { scope: "agents:write" },
  "DELETE /v1/agents/:agent_id": { scope: "agents:write" },
  "POST /v1/agents/:agent_id/rotate-key": { scope: "agents:write" },

  // Audit
  "GET /v1/audit/events": { scope: "audit:read" },
  "GET /v1/audit/verify": { scope: "audit:read" },
  "GET /v1/audit/export": { scope: "audit:read" },

  // Vaults, MPC and CMEK
  "POST /v1/vaults": { scope: "vaults:write" },
  "GET /v1/vaults": { scope: "vaults:read" },
  "GET /v1/vaults/:vault_id": { scope: "vaults:read" },
  "DELETE /v1/vaults/:vault_id": { scope: "vaults:write" },
  "POST /v1/vaults/:vault_id/mpc": { scope: "vaults:write" },
  "POST /v1/vaults/:vault_id/mpc/rotate": { scope: "vaults:write" },
  "POST /v1/vaults/:vault_id/mpc/replace-provider": { scope: "vaults:write" },
  "POST /v1/vaults/:vault_id/mpc/refresh": { scope: "vaults:write" },
  "GET /v1/vaults/:vault_id/mpc/jobs/:job_id": { scope: "vaults:read" },
  "POST /v1/vaults/:vault_id/cmek": { scope: "vaults:write" },
  "DELETE /v1/vaults/:vault_id/cmek": { scope: "vaults:write" },
  "POST /v1/vaults/:vault_id/cmek-rotate": { scope: "vaults:write" },
  "GET /v1/vaults/:vault_id/cmek-rotate/:job_id": { scope: "vaults:read" },

  // Policies
  "POST /v1/vaults/:vault_id/policies": { scope: "policies:write" },
  "GET /v1/vaults/:vault_id/policies": { scope: "policies:read" },
  "PUT /v1/vaults/:vault_id/policies/:policy_id": { scope: "policies:write" },
  "DELETE /v1/vaults/:vault_id/policies/:policy_id": { scope: "policies:write" },

  // Secrets
  "PUT /v1/vaults/:vault_id/secrets/*": { scope: "secrets:write" },
  "GET /v1/vaults/:vault_id/secrets/*": { scope: "secrets:read", auditsRefusals: true },
  "GET /v1/vaults/:vault_id/secrets": { scope: "secrets:read" },
  "DELETE /v1/vaults/:vault_id/secrets/*": { scope: "secrets:delete" },
  "GET /v1/vaults/:vault_id/secret-versions/*": { scope: "secrets:read" },
  "GET /v1/vaults/:vault_id/secret-version/*": { scope: "secrets:read", auditsRefusals: true },
  "POST /v1/vaults/:vault_id/secret-version-disable/*": { scope: "secrets:write" },
  "POST /v1/vaults/:vault_id/secret-rotate/*": { scope: "secrets:write" },
  "POST /v1/vaults/:vault_id/secret-refresh/*": { scope: "secrets:write" },
  "GET /v1/vaults/:vault_id/secret-seal/*": { scope: "secrets:write" },

  // Sharing (opening a share, GET /v1/share/:share_id, is public: a recipient's token there needs secrets:read)
  "POST /v1/secrets/:secret_id/share": { scope: "shares:write" },
  "DELETE /v1/share/:share_id": { scope: "shares:write" },
  "GET /v1/shares/outbound": { scope: null },
  "GET /v1/shares/inbound": { scope: null },
  "POST /v1/shares/:share_id/accept": { scope: null },
  "POST /v1/shares/:share_id/decline": { scope: null },
};

export const routeKey = (method: string, url: string) => `${method} ${url}`;
