/** Turning answers and failures into the SDK's `{ data, error, meta }` shape. */
import { CryptoError } from "@shardvault/crypto/client";
import { CmekError } from "./cmek.js";
import type { ErrorType, ShardvaultError, ShardvaultResponse } from "./types.js";

/** 1claw's mapping from HTTP status (and, for 403, the problem type) to an error type. */
export function errorType(status: number, problemType: unknown): ErrorType {
  if (status === 400) return "validation_error";
  if (status === 401) return "auth_error";
  if (status === 403) return problemType === "resource_limit_exceeded" ? "resource_limit_exceeded" : "auth_error";
  if (status === 402) return "payment_required";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 429) return "rate_limit";
  if (status >= 500) return "server_error";
  return "unknown";
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** The error of a non-2xx answer, from its problem details when it has them. */
export function httpError(status: number, body: unknown): ShardvaultError {
  const problem = isRecord(body) ? body : {};
  const detail =
    typeof problem.detail === "string"
      ? problem.detail
      : typeof problem.message === "string"
        ? problem.message
        : typeof problem.error === "string"
          ? problem.error
          : `HTTP ${status}`;
  const code = typeof problem.code === "string" ? problem.code : `http_${status}`;
  return { type: errorType(status, problem.type), message: detail, code, detail };
}

export function failure<T>(status: number, error: ShardvaultError): ShardvaultResponse<T> {
  return { data: null, error, meta: { status } };
}

/** No answer came: connection refused, DNS, TLS, timeout, aborted. */
export function networkFailure<T>(cause: unknown): ShardvaultResponse<T> {
  const reason = describeCause(cause);
  const message = `no answer from the server: ${reason}`;
  return failure(0, { type: "network_error", message, code: "network_error", detail: message });
}

/** The SDK refused the call before sending anything (e.g. an invalid secret path). */
export function clientValidationFailure<T>(code: string, message: string): ShardvaultResponse<T> {
  return failure(0, { type: "validation_error", message, code, detail: message });
}

/** The client-side CMEK layer failed; `status` is that of the answer being decrypted (0 before sending). */
export function cmekFailure<T>(status: number, error: CmekError): ShardvaultResponse<T> {
  const message =
    error.code === "cmek_key_mismatch"
      ? "the value does not decrypt with this client's CMEK key: the vault's key may have been rotated (use the new key)"
      : error.message;
  return failure(status, { type: "cmek_error", message, code: error.code, detail: message });
}

/**
 * Client-side reconstruction failed in the crypto core. A client share that does not fit is the caller's
 * mistake, typed as the server types it for a server-side read; an answer that does not open (a context naming
 * another version, a malformed or tampered sealed value) is the server's.
 */
export function reconstructionFailure<T>(status: number, error: CryptoError): ShardvaultResponse<T> {
  const callers = error.code.startsWith("client_share_") || error.code === "invalid_argument";
  return failure(status, { type: callers ? "validation_error" : "server_error", message: error.message, code: error.code, detail: error.message });
}

/**
 * Runs client-side crypto (CMEK, client-side reconstruction), turning a `CmekError` or `CryptoError` into the
 * response; anything else is a bug and propagates.
 */
export async function withClientCrypto<T>(status: number, work: () => Promise<ShardvaultResponse<T>>): Promise<ShardvaultResponse<T>> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CmekError) return cmekFailure(status, error);
    if (error instanceof CryptoError) return reconstructionFailure(status, error);
    throw error;
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  if (cause.name === "AbortError" || cause.name === "TimeoutError") return "the request timed out";
  // Node's fetch wraps the system error (ECONNREFUSED, ENOTFOUND, …) as `cause`.
  const inner = (cause as { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === "string" ? `${code} (${inner.message})` : inner.message;
  }
  return cause.message;
}
