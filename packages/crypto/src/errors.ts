/**
 * Errors raised by the crypto core. `code` is a stable word the server maps to its HTTP answers; messages
 * describe the caller's mistake and never contain key material.
 */
export type CryptoErrorCode =
  | "invalid_argument"
  | "context_malformed"
  | "sealed_context_mismatch"
  | "client_share_mismatch"
  | "client_share_invalid"
  | "sealed_malformed"
  | "sealed_unknown_version"
  | "sealed_auth_failed"
  | "shares_invalid"
  | "client_share_bad_encoding"
  | "client_share_bad_check"
  | "client_share_unknown_version"
  | "client_share_unknown_scheme"
  | "client_share_wrong_length"
  | "client_share_bad_index";

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = "CryptoError";
    this.code = code;
  }
}
