/** Exit codes, and errors that carry one. */
import type { ShardvaultError } from "@shardvault/sdk";

export const EXIT = {
  OK: 0,
  /** Any other error: a refused request (400, 409, 410 aside), a local file problem. */
  ERROR: 1,
  /** The command line is wrong: unknown command or option, missing argument, a value given on argv. */
  USAGE: 2,
  NOT_FOUND: 3,
  /** Not logged in, a wrong or revoked key, or not allowed (401, 403). */
  AUTH: 4,
  /** The server or a key provider is unavailable: 5xx (503 included), or no answer at all. */
  UNAVAILABLE: 5,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The API's error, printed as JSON with `--json`. */
    readonly apiError?: { error: ShardvaultError; status: number },
  ) {
    super(message);
    this.name = "CliError";
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.USAGE);

/** The exit code for an SDK error answer. */
export function exitCodeFor(error: ShardvaultError, status: number): number {
  if (error.type === "network_error" || status >= 500) return EXIT.UNAVAILABLE;
  // The SDK refused the call before sending it (an invalid path or id): a usage error.
  if (status === 0 && error.type === "validation_error") return EXIT.USAGE;
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404 || status === 410) return EXIT.NOT_FOUND;
  return EXIT.ERROR;
}

/**
 * Unwraps an SDK answer, or throws the CliError that says why it failed (in `explain`'s words when it has
 * some for that error, e.g. for a missing client share).
 */
export function unwrap<T>(answer: { data: T | null; error: ShardvaultError | null; meta: { status: number } }, explain?: (error: ShardvaultError) => string | undefined): T {
  if (answer.error) {
    const { error, meta } = answer;
    // A status only for a refusal: a failure after a 2xx answer (client-side crypto) or before any is the client's own.
    const where = meta.status >= 400 ? ` (${meta.status} ${error.code})` : error.type === "network_error" ? "" : ` (${error.code})`;
    throw new CliError(`${explain?.(error) ?? error.message}${where}`, exitCodeFor(error, meta.status), { error, status: meta.status });
  }
  return answer.data as T;
}
