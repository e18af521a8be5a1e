/** `client.auth`: the token endpoints and the JWKS (the client exchanges tokens by itself; these are for callers that want them). */
import type { AgentTokenResponse, Jwks, TokenResponse } from "../api-types.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

export class AuthResource {
  constructor(private readonly http: Transport) {}

  /** `POST /v1/auth/api-key-token`: a user token for a `1ck_` key. */
  apiKeyToken(apiKey: string): Promise<ShardvaultResponse<TokenResponse>> {
    return this.http.request({ method: "POST", path: "/v1/auth/api-key-token", body: { api_key: apiKey }, auth: false });
  }

  /** `POST /v1/auth/agent-token`: an agent token for an `ocv_` key (the key names its agent; `agentId` is checked if given). */
  agentToken(apiKey: string, agentId?: string): Promise<ShardvaultResponse<AgentTokenResponse>> {
    const body = agentId === undefined ? { api_key: apiKey } : { api_key: apiKey, agent_id: agentId };
    return this.http.request({ method: "POST", path: "/v1/auth/agent-token", body, auth: false });
  }

  /** `GET /.well-known/jwks.json`: the public keys that verify issued tokens. */
  jwks(): Promise<ShardvaultResponse<Jwks>> {
    return this.http.request({ method: "GET", path: "/.well-known/jwks.json", auth: false });
  }
}
