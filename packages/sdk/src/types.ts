/**
 * The SDK's own types. The API's request and response types (`Secret`, `Vault`, `WriteSecretBody`, …) are in
 * `api-types.ts`, generated from `@shardvault/api`, and exported from the package root as well.
 */

/**
 * What kind of failure an error is, as 1claw's SDK names them: 400 `validation_error`; 401 and 403
 * `auth_error`, except a 403 whose problem type is `resource_limit_exceeded`; 404 `not_found`; 409
 * `conflict`; 402 `payment_required`; 429 `rate_limit`; 5xx `server_error`; no answer at all
 * `network_error` (with `meta.status` 0); any other status `unknown`. And one of Shardvault's own:
 * `cmek_error`, the client-side CMEK layer failed (`code` says how: `cmek_key_mismatch` when a value does not
 * decrypt with the client's key, e.g. after a key rotation; `cmek_key_invalid`, `cmek_blob_malformed`,
 * `cmek_value_not_utf8`), with `meta.status` the status of the answer that was received (0 when nothing was sent).
 * Client-side reconstruction (`reconstruct: "client"`) reports the crypto core's failures under its codes, typed
 * as the fault lies: `validation_error` for a client share that does not fit (`client_share_invalid`,
 * `client_share_mismatch`, `client_share_bad_check`, … — the codes a server-side read answers for the same
 * mistake), `server_error` for an answer that does not hold together (`sealed_context_mismatch`,
 * `sealed_malformed`, `sealed_auth_failed`, `sealed_unknown_version`); again with the answer's status.
 */
export type ErrorType =
  | "validation_error"
  | "auth_error"
  | "resource_limit_exceeded"
  | "payment_required"
  | "not_found"
  | "conflict"
  | "rate_limit"
  | "server_error"
  | "network_error"
  | "cmek_error"
  | "unknown";

export interface ShardvaultError {
  type: ErrorType;
  /** The problem's `detail`: a human sentence. */
  message: string;
  /** The problem's `code`: a stable machine-readable word (e.g. `client_share_required`). */
  code: string;
  /** The problem's `detail`, as 1claw's SDK exposes it. */
  detail: string;
}

export interface ResponseMeta {
  /** The HTTP status; 0 when no answer came (network failure) or the SDK refused the call itself. */
  status: number;
}

/** Every method resolves to this; none throws, whatever the answer or the arguments. */
export type ShardvaultResponse<T> =
  | { data: T; error: null; meta: ResponseMeta }
  | { data: null; error: ShardvaultError; meta: ResponseMeta };

/** The subset of `fetch` the SDK uses, so any implementation (Node 20, browsers, a test double) fits. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<ResponseLike>;

export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface ClientOptions {
  /**
   * A user API key (`1ck_…`), exchanged for a short-lived token before the first request; or an agent key
   * (`ocv_…`), which selects agent mode even without `agentId`.
   */
  apiKey?: string;
  /** The agent's id: with `apiKey`, authenticate as that agent. */
  agentId?: string;
  /** A ready bearer token (a JWT from the token endpoints, or a raw user API key); never refreshed. */
  token?: string;
  /** The server. Default: `SHARDVAULT_URL` from the environment, else `http://127.0.0.1:8787`. */
  baseUrl?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Give up on a request after this long (a `network_error`). Default 60 000 ms; 0 for never. */
  timeoutMs?: number;
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** The clock token lifetimes are counted on, in ms since the epoch. Default: `Date.now`. */
  now?: () => number;
  /**
   * A CMEK key (32 bytes): values are encrypted with it on `put`/`set`/`rotate`, and reads answering
   * `cmek_encrypted: true` are decrypted with it. The key never leaves this client.
   */
  cmekKey?: Uint8Array;
}

/**
 * Where a client-custody version's key is rebuilt. `server` (the default, 1claw's way): reads send the client
 * share as `X-Client-Share` and the server combines it with its own shares; writes send the value. `client`:
 * reads send `X-Reconstruct: client` and never the share, the server answers the sealed version with its
 * shares, and this client combines and opens it; writes seal the value here and send only the sealed form and
 * the server's shares. Either way the server keeps no client share; with `client` it never sees one, nor the
 * value or its key.
 */
export type Reconstruct = "client" | "server";

/** Per-call options of reads that may need the client's share (client-custody MPC vaults). */
export interface ReadOptions {
  /** Extra request headers, e.g. `{ "X-Client-Share": share }` as in the MPC guide (`server` reconstruction only). */
  headers?: Record<string, string>;
  /** The client share: sent as `X-Client-Share`, or with `reconstruct: "client"` used here and never sent. */
  clientShare?: string;
  /** A specific version instead of the latest readable one. */
  version?: number;
  /** `client`: rebuild the value on this client (needs `clientShare`). Default `server`. */
  reconstruct?: Reconstruct;
}

/** Per-call options of writes (`put`, `set`, `rotate`). */
export interface WriteOptions {
  /**
   * `client` (client-custody vaults): seal the value on this client; the answer's `client_share` is the one made
   * here. Default `server`.
   */
  reconstruct?: Reconstruct;
}
