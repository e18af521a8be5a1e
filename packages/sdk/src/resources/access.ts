/**
 * `client.access`: policies (access grants) on a vault, with 1claw's method names and argument order:
 * `grantAgent(vaultId, agentId, permissions, options)`, `grantHuman(vaultId, userId, permissions, options)`,
 * `listGrants(vaultId)`, `update(vaultId, policyId, update)`, `revoke(vaultId, policyId)`.
 */
import type { Policy, PolicyEffect, PolicyList, PolicyPermission, UpdatePolicyBody } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

export interface GrantOptions {
  /** Which secret paths the grant covers: `*` is one segment, `**` any number. Default `**` (the whole vault). */
  secretPathPattern?: string;
  /** `ip_allowlist` (addresses or CIDRs), `not_before`, `not_after` (RFC 3339); all must hold. */
  conditions?: { ip_allowlist?: string[]; not_before?: string; not_after?: string };
  /** RFC 3339; after it the grant no longer counts. */
  expires_at?: string;
  /** Default `allow`. */
  effect?: PolicyEffect;
  /** The highest matching priority decides; at equal priority deny wins. Default 0. */
  priority?: number;
}

const policiesPath = (vaultId: string) => `/v1/vaults/${encodeURIComponent(vaultId)}/policies`;

function grant(http: Transport, principalType: "user" | "agent", vaultId: string, principalId: string, permissions: PolicyPermission[], options: GrantOptions) {
  const problem = idProblem("vaultId", vaultId) ?? idProblem(principalType === "agent" ? "agentId" : "userId", principalId);
  if (problem) return Promise.resolve(clientValidationFailure<Policy>("invalid_id", problem));
  const body = {
    secret_path_pattern: options.secretPathPattern ?? "**",
    principal_type: principalType,
    principal_id: principalId,
    permissions,
    effect: options.effect ?? "allow",
    priority: options.priority ?? 0,
    ...(options.conditions !== undefined ? { conditions: options.conditions } : {}),
    ...(options.expires_at !== undefined ? { expires_at: options.expires_at } : {}),
  };
  return http.request<Policy>({ method: "POST", path: policiesPath(vaultId), body });
}

export class AccessResource {
  constructor(private readonly http: Transport) {}

  /** `POST /v1/vaults/{id}/policies` for an agent: 201 with the policy. */
  grantAgent(vaultId: string, agentId: string, permissions: PolicyPermission[], options: GrantOptions = {}): Promise<ShardvaultResponse<Policy>> {
    return grant(this.http, "agent", vaultId, agentId, permissions, options);
  }

  /** `POST /v1/vaults/{id}/policies` for a member of the organization. */
  grantHuman(vaultId: string, userId: string, permissions: PolicyPermission[], options: GrantOptions = {}): Promise<ShardvaultResponse<Policy>> {
    return grant(this.http, "user", vaultId, userId, permissions, options);
  }

  /** `GET /v1/vaults/{id}/policies`: `{ policies: [...] }`. */
  listGrants(vaultId: string): Promise<ShardvaultResponse<PolicyList>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "GET", path: policiesPath(vaultId) });
  }

  /** `PUT /v1/vaults/{id}/policies/{policy_id}`: fields left out stay as they are; `expires_at: null` clears it. */
  update(vaultId: string, policyId: string, update: UpdatePolicyBody): Promise<ShardvaultResponse<Policy>> {
    const problem = idProblem("vaultId", vaultId) ?? idProblem("policyId", policyId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "PUT", path: `${policiesPath(vaultId)}/${encodeURIComponent(policyId)}`, body: update });
  }

  /** `DELETE /v1/vaults/{id}/policies/{policy_id}`: the grant ends with the next request, on every instance. */
  revoke(vaultId: string, policyId: string): Promise<ShardvaultResponse<null>> {
    const problem = idProblem("vaultId", vaultId) ?? idProblem("policyId", policyId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: `${policiesPath(vaultId)}/${encodeURIComponent(policyId)}` });
  }
}
