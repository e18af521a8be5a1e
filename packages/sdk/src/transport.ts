/** The HTTP transport every resource uses: URL building, auth, JSON, and the `{ data, error, meta }` shape. */
import type { AgentTokenResponse, TokenResponse } from "./api-types.js";
import { clientValidationFailure, failure, httpError, networkFailure } from "./errors.js";
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
  /** The answer is NDJSON (one JSON value a line): `data` is the array of them. */
  ndjson?: boolean;
}

/** `SHARDVAULT_URL` when there is a process environment (Node); browsers have none. */
function envBaseUrl(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.SHARDVAULT_URL;
  return value ? value : undefined;
}

/** What an HTTP header may carry (RFC 9110): a token as its name; no line break or other control character in its value. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

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
    this.tokens = new TokenSource(
      authModeOf(options),
      (path, body) => this.send<TokenResponse | AgentTokenResponse>({ method: "POST", path, body, auth: false }, undefined),
      options.now,
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
    const prepared = this.prepare(spec, token);
    if ("refused" in prepared) return prepared.refused;
    const controller = this.timeoutMs > 0 && typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), this.timeoutMs) : undefined;
    let response: ResponseLike;
    let text: string;
    try {
      response = await this.fetch(prepared.url, { ...prepared.init, ...(controller ? { signal: controller.signal } : {}) });
      text = await response.text();
    } catch (cause) {
      return networkFailure<T>(cause);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    return toResponse<T>(response, text, spec.ndjson === true);
  }

  /**
   * The URL and request, or the refusal of what cannot be sent as it is: a header with a line break, a body
   * that is not JSON (a cycle, a BigInt), a parameter that is not well-formed Unicode. Refusals name the
   * header or parameter, never its value (a header may hold a client share).
   */
  private prepare(spec: RequestSpec, token: string | undefined): { url: string; init: { method: string; headers: Record<string, string>; body?: string } } | { refused: ShardvaultResponse<never> } {
    const headers: Record<string, string> = { accept: spec.ndjson ? "application/x-ndjson" : "application/json", ...this.headers, ...lowerCaseKeys(spec.headers) };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const bad = Object.entries(headers).find(([name, value]) => !HEADER_NAME.test(name) || !HEADER_VALUE.test(value));
    if (bad) {
      const what = HEADER_NAME.test(bad[0]) ? `the ${bad[0]} header holds a line break or another character HTTP headers cannot carry` : "a header name is not a valid HTTP token";
      return { refused: clientValidationFailure("invalid_header", what) };
    }
    let body: string | undefined;
    if (spec.body !== undefined) {
      try {
        body = JSON.stringify(spec.body);
      } catch (error) {
        return { refused: clientValidationFailure("invalid_body", `the request body cannot be sent as JSON: ${(error as Error).message}`) };
      }
      headers["content-type"] = "application/json";
    }
    let url: string;
    try {
      url = this.url(spec.path, spec.query);
    } catch {
      // encodeURIComponent refuses unpaired surrogates.
      return { refused: clientValidationFailure("invalid_parameter", "a query parameter is not well-formed Unicode") };
    }
    return { url, init: { method: spec.method, headers, ...(body !== undefined ? { body } : {}) } };
  }
}

function parseNdjson(text: string): unknown[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as unknown);
}

function toResponse<T>(response: ResponseLike, text: string, ndjson: boolean): ShardvaultResponse<T> {
  const { status } = response;
  let parsed: unknown = undefined;
  let parseFailed = false;
  // Problems are JSON whatever was asked for; a successful NDJSON answer may be empty (no events).
  const successfulNdjson = ndjson && status >= 200 && status < 300;
  if (text !== "" || successfulNdjson) {
    try {
      parsed = successfulNdjson ? parseNdjson(text) : JSON.parse(text);
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
