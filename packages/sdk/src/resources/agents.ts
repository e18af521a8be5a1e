/** `client.agents`: agents, their keys, and the calling agent itself. */
import type { Agent, AgentList, AgentWithKey, CreateAgentBody, UpdateAgentBody } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

/** Sends to `/v1/agents/{agentId}` (or below it), or refuses an invalid id. */
function at<T>(agentId: string, send: (path: string) => Promise<ShardvaultResponse<T>>): Promise<ShardvaultResponse<T>> {
  const problem = idProblem("agentId", agentId);
  if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
  return send(`/v1/agents/${encodeURIComponent(agentId)}`);
}

export class AgentsResource {
  constructor(private readonly http: Transport) {}

  /** `POST /v1/agents`: the agent and its key (`ocv_…`), shown this once. */
  create(body: CreateAgentBody): Promise<ShardvaultResponse<AgentWithKey>> {
    return this.http.request({ method: "POST", path: "/v1/agents", body });
  }

  list(): Promise<ShardvaultResponse<AgentList>> {
    return this.http.request({ method: "GET", path: "/v1/agents" });
  }

  get(agentId: string): Promise<ShardvaultResponse<Agent>> {
    return at(agentId, (path) => this.http.request({ method: "GET", path }));
  }

  /** `GET /v1/agents/me`: the calling agent (agent tokens only). */
  me(): Promise<ShardvaultResponse<Agent>> {
    return this.http.request({ method: "GET", path: "/v1/agents/me" });
  }

  /** 1claw's name for `me`. */
  getSelf(): Promise<ShardvaultResponse<Agent>> {
    return this.me();
  }

  update(agentId: string, body: UpdateAgentBody): Promise<ShardvaultResponse<Agent>> {
    return at(agentId, (path) => this.http.request({ method: "PATCH", path, body }));
  }

  delete(agentId: string): Promise<ShardvaultResponse<null>> {
    return at(agentId, (path) => this.http.request({ method: "DELETE", path }));
  }

  /** A new key for the agent, shown this once; the old key and its tokens stop working at once. */
  rotateKey(agentId: string): Promise<ShardvaultResponse<AgentWithKey>> {
    return at(agentId, (path) => this.http.request({ method: "POST", path: `${path}/rotate-key` }));
  }
}
