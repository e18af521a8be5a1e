/**
 * The error hierarchy the domain raises; `http/problem.ts` maps it once to RFC 7807 answers.
 * `detail` is a sentence for the caller and never carries secret material.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extra: { type?: string; retryAfterSeconds?: number; refusal?: Refusal } = {},
  ) {
    super(detail);
    this.name = "AppError";
  }
}

/**
 * What an access refusal recorded in the audit log says besides its code: ids, the path, the permission or scope
 * that was missing, the `cause` behind the code. Never a value, a key or a password.
 */
export type Refusal = Record<string, string | number | boolean | undefined>;

/** An access refusal (403, or 404 for what the caller may not know exists): the HTTP layer audits it as `access.denied`. */
export const refused = (status: 403 | 404, code: string, detail: string, refusal: Refusal) => new AppError(status, code, detail, { refusal });

export const badRequest = (code: string, detail: string) => new AppError(400, code, detail);
export const unauthorized = (detail = "missing or invalid credentials") => new AppError(401, "unauthorized", detail);
export const forbidden = (code: string, detail: string) => new AppError(403, code, detail);
export const notFound = (code: string, detail: string) => new AppError(404, code, detail);
export const conflict = (code: string, detail: string) => new AppError(409, code, detail);
export const gone = (code: string, detail: string) => new AppError(410, code, detail);
export const tooLarge = (code: string, detail: string) => new AppError(413, code, detail);
/** Server-side data failed an integrity check: the code is specific, the detail stays generic. */
export const corrupt = (code: string) => new AppError(500, code, "stored data failed an integrity check");
export const unavailable = (code: string, detail: string, retryAfterSeconds = 5) =>
  new AppError(503, code, detail, { retryAfterSeconds });
