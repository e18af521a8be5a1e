/** The HTTP transport every resource uses: URL building, auth, JSON, and the `{ data, error, meta }` shape. */
import type { AgentTokenResponse, TokenResponse } from "@shardvault/api";
import { failure, httpError, networkFailure } from "./errors.js";
import { authModeOf, TokenSource } from "./tokens.js";
import type { ClientOptions, FetchLike, ResponseLike, ShardvaultResponse } from "./types.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";
const DEFAULT_TIMEOUT_MS = 60_000;

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** The path with its parameters already encoded, starting with `/`. */
  path: string;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send a bearer token (default true; the token endpoints and public routes say false). */
  auth?: boolean;
}

/** `SHARDVAULT_URL` when there is a process environment (Node); browsers have none. */
function envBaseUrl(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.SHARDVAULT_URL;
  return value ? value : undefined;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) out[name.toLowerCase()] = String(value);
  return out;
}

export class Transport {
  readonly baseUrl: string;
  readonly tokens: TokenSource;
  private readonly fetch: FetchLike;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.baseUrl = (options.baseUrl ?? envBaseUrl() ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    this.fetch = options.fetch ?? ((url, init) => globalFetch!(url, init));
    this.headers = lowerCaseKeys(options.headers);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.tokens = new TokenSource(authModeOf(options), (path, body) =>
      this.send<TokenResponse | AgentTokenResponse>({ method: "POST", path, body, auth: false }, undefined),
    );
  }

  url(path: string, query?: Query): string {
    const params: string[] = [];
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    }
    return this.baseUrl + path + (params.length > 0 ? `?${params.join("&")}` : "");
  }

  /** Sends the request with a current token; a 401 on an exchanged token renews it and tries once more. */
  async request<T>(spec: RequestSpec): Promise<ShardvaultResponse<T>> {
    if (spec.auth === false) return this.send<T>(spec, undefined);
    const first = await this.tokens.get();
    if (first.error) return first.error;
    const answer = await this.send<T>(spec, first.token);
    if (answer.meta.status !== 401 || !this.tokens.renewable) return answer;
    // The token may have been revoked or expired early (clock skew): one fresh exchange, one retry. The
    // server refuses a bad token before it looks at the request, so repeating it is safe.
    this.tokens.invalidate(first.token);
    const second = await this.tokens.get();
    if (second.error) return second.error;
    return this.send<T>(spec, second.token);
  }

  private async send<T>(spec: RequestSpec, token: string | undefined): Promise<ShardvaultResponse<T>> {
    const headers: Record<string, string> = { accept: "application/json", ...this.headers, ...lowerCaseKeys(spec.headers) };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers["content-type"] = "application/json";
    }
    const controller = this.timeoutMs > 0 && typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : undefined;
    let response: ResponseLike;
    let text: string;
    try {
      response = await this.fetch(this.url(spec.path, spec.query), {
        method: spec.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(controller ? { signal: controller.signal } : {}),
      });
      text = await response.text();
    } catch (cause) {
      return networkFailure<T>(cause);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return toResponse<T>(response, text);
  }
}

function toResponse<T>(response: ResponseLike, text: string): ShardvaultResponse<T> {
  const { status } = response;
  let parsed: unknown = undefined;
  let parseFailed = false;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parseFailed = true;
    }
  }
  if (status >= 200 && status < 300) {
    if (parseFailed) {
      const message = `the server answered ${status} with a body that is not JSON`;
      return failure(status, { type: "server_error", message, code: "invalid_response", detail: message });
    }
    return { data: (parsed ?? null) as T, error: null, meta: { status } };
  }
  return failure(status, httpError(status, parsed));
}
