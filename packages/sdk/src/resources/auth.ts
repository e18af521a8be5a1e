/**
 * `client.auth`: sign-in by email and password, accepting an invitation, the caller's own profile and password,
 * the token endpoints and the JWKS. Sign-in, accepting an invitation and changing the password leave the client
 * using the token they answer, as 1claw's `auth.login` does.
 */
import type { AgentTokenResponse, ChangePasswordBody, Jwks, Member, SignInBody, TokenResponse, UpdateMeBody } from "../api-types.js";
import type { Transport } from "../transport.js";
import type { ShardvaultResponse } from "../types.js";

/** Uses the token of a successful answer for the client's next requests. */
async function signedIn(http: Transport, answer: Promise<ShardvaultResponse<TokenResponse>>): Promise<ShardvaultResponse<TokenResponse>> {
  const res = await answer;
  if (res.data?.access_token) http.tokens.use(res.data.access_token);
  return res;
}

export class AuthResource {
  constructor(private readonly http: Transport) {}

  /**
   * `POST /v1/auth/token`: sign in as a member. `login(email, password)`, or 1claw's `login({ email, password })`.
   * Every mismatch is the same 401 (`auth_error`).
   */
  login(email: string | SignInBody, password?: string): Promise<ShardvaultResponse<TokenResponse>> {
    const body = typeof email === "string" ? { email, password: password ?? "" } : email;
    return signedIn(this.http, this.http.request({ method: "POST", path: "/v1/auth/token", body, auth: false }));
  }

  /** `POST /v1/auth/accept-invite`: becomes a member with this password (at least 12 characters), and signs in. */
  acceptInvite(inviteToken: string, password: string, displayName?: string): Promise<ShardvaultResponse<TokenResponse>> {
    const body = { invite_token: inviteToken, password, ...(displayName !== undefined ? { display_name: displayName } : {}) };
    return signedIn(this.http, this.http.request({ method: "POST", path: "/v1/auth/accept-invite", body, auth: false }));
  }

  /** `GET /v1/auth/me`: the calling member (agents use `agents.me()`). */
  getMe(): Promise<ShardvaultResponse<Member>> {
    return this.http.request({ method: "GET", path: "/v1/auth/me" });
  }

  /** `PATCH /v1/auth/me`: the caller's display name and email. */
  updateMe(update: UpdateMeBody): Promise<ShardvaultResponse<Member>> {
    return this.http.request({ method: "PATCH", path: "/v1/auth/me", body: update });
  }

  /**
   * `POST /v1/auth/change-password`: `current_password` is needed once a password is set. Earlier sign-ins end;
   * the client goes on with the new session's token.
   */
  changePassword(request: ChangePasswordBody): Promise<ShardvaultResponse<TokenResponse>> {
    return signedIn(this.http, this.http.request({ method: "POST", path: "/v1/auth/change-password", body: request }));
  }

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
