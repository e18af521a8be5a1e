/**
 * Bearer tokens. A user key (`1ck_…`) or an agent key (`ocv_…`) is exchanged for a short-lived JWT before
 * the first request, and again shortly before that token expires; concurrent callers that find the token
 * missing or due share one exchange. A ready `token` is used as it is.
 */
import type { AgentTokenResponse, TokenResponse } from "./api-types.js";
import type { ShardvaultResponse } from "./types.js";

export type AuthMode =
  | { kind: "none" }
  | { kind: "token"; token: string }
  | { kind: "user"; apiKey: string }
  | { kind: "agent"; apiKey: string; agentId?: string };

/** Performs one exchange: `POST /v1/auth/api-key-token` or `POST /v1/auth/agent-token`. */
export type Exchange = (path: string, body: Record<string, string>) => Promise<ShardvaultResponse<TokenResponse | AgentTokenResponse>>;

export type TokenResult = { token: string | undefined; error?: undefined } | { token?: undefined; error: ShardvaultResponse<never> };

/** Refresh this long before expiry: a quarter of the lifetime, at least 1 s (JWT times are whole seconds), at most 60 s. */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(1_000, lifetimeMs / 4));
}

/** The `exp` claim of a JWT in ms, if it has one; the token is not verified (the server does that). */
export function jwtExpiryMs(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function authModeOf(options: { apiKey?: string | undefined; agentId?: string | undefined; token?: string | undefined }): AuthMode {
  const { apiKey, agentId, token } = options;
  if (apiKey) {
    if (agentId || apiKey.startsWith("ocv_")) return { kind: "agent", apiKey, ...(agentId ? { agentId } : {}) };
    return { kind: "user", apiKey };
  }
  if (token) return { kind: "token", token };
  return { kind: "none" };
}

export class TokenSource {
  private current: { token: string; refreshAt: number } | undefined;
  private pending: Promise<TokenResult> | undefined;
  /** The agent id the last agent-token exchange answered. */
  agentId: string | undefined;

  constructor(
    private mode: AuthMode,
    private readonly exchange: Exchange,
    private readonly now: () => number = Date.now,
  ) {
    if (mode.kind === "agent") this.agentId = mode.agentId;
  }

  /** Whether tokens come from an exchange (and so can be renewed after a 401). */
  get renewable(): boolean {
    return this.mode.kind === "user" || this.mode.kind === "agent";
  }

  /** A token valid for a while yet, exchanging first when there is none or it is due. */
  async get(): Promise<TokenResult> {
    switch (this.mode.kind) {
      case "none":
        return { token: undefined };
      case "token":
        return { token: this.mode.token };
    }
    if (this.current && this.now() < this.current.refreshAt) return { token: this.current.token };
    return this.refresh();
  }

  /** From now on, send this token (a sign-in's): it replaces whatever the client authenticated with. */
  use(token: string): void {
    this.mode = { kind: "token", token };
    this.current = undefined;
  }

  /** Drops `token` if it is still the current one (the server refused it), so the next `get` exchanges. */
  invalidate(token: string | undefined): void {
    if (this.current && this.current.token === token) this.current = undefined;
  }

  private refresh(): Promise<TokenResult> {
    // One exchange at a time: everyone who needs a token meanwhile waits for the same answer.
    this.pending ??= this.exchangeOnce().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async exchangeOnce(): Promise<TokenResult> {
    const mode = this.mode as Extract<AuthMode, { kind: "user" | "agent" }>;
    const startedAt = this.now();
    const answer =
      mode.kind === "user"
        ? await this.exchange("/v1/auth/api-key-token", { api_key: mode.apiKey })
        : await this.exchange("/v1/auth/agent-token", { api_key: mode.apiKey, ...(this.agentId ? { agent_id: this.agentId } : {}) });
    if (answer.error) return { error: answer as ShardvaultResponse<never> };
    const data = answer.data;
    if (typeof data?.access_token !== "string" || typeof data.expires_in !== "number") {
      const message = "the token endpoint answered without access_token and expires_in";
      return { error: { data: null, error: { type: "server_error", message, code: "invalid_token_response", detail: message }, meta: answer.meta } };
    }
    if ("agent_id" in data && typeof data.agent_id === "string") this.agentId = data.agent_id;
    // Counted from when the exchange started, and never past the token's own `exp`.
    const lifetimeMs = data.expires_in * 1000;
    const expiresAt = Math.min(startedAt + lifetimeMs, jwtExpiryMs(data.access_token) ?? Infinity);
    this.current = { token: data.access_token, refreshAt: expiresAt - refreshMarginMs(lifetimeMs) };
    return { token: data.access_token };
  }
}
