/**
 * The key provider interface: every backend (local, PKCS#11, cloud KMS) creates per-vault KEKs and wraps and
 * unwraps key material under associated data that binds it to what it belongs to.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

export type ProviderStatus = "ok" | "degraded" | "unavailable";

export interface ProviderHealth {
  status: ProviderStatus;
  latencyMs: number;
  detail?: string;
}

export interface KeyProvider {
  /** The configured slot name (`gcp`, `aws`, `azure`, …). */
  readonly slot: string;
  /** The backend kind, e.g. `local`. */
  readonly backend: string;
  /** True for software providers meant for development only. */
  readonly development: boolean;
  /**
   * True when anyone holding the KEK's public key can make a wrap this provider unwraps (RSA-OAEP): such a
   * wrap carries no integrity, so it may never be the only protection of a DEK (see envelope/).
   */
  readonly forgeableWraps: boolean;
  /** Creates a KEK for a vault and returns its reference (never key material). */
  createKek(vaultId: string, opts?: CallOptions): Promise<string>;
  wrap(kekId: string, plaintext: Uint8Array, aad: Uint8Array, opts?: CallOptions): Promise<Uint8Array>;
  /** Returns the plaintext, which the caller wipes; throws ProviderError("integrity") on a wrong binding. */
  unwrap(kekId: string, wrapped: Uint8Array, aad: Uint8Array, opts?: CallOptions): Promise<Uint8Array>;
  /** Stops a KEK from being used again (after its vault moved to MPC). Optional: not every backend can. */
  disableKek?(kekId: string, opts?: CallOptions): Promise<void>;
  health(opts?: CallOptions): Promise<ProviderHealth>;
  close(): Promise<void>;
}

/** What the server does about a failure: retry later (503), refuse as corrupt, or report misconfiguration. */
export type ProviderErrorKind = "unavailable" | "integrity" | "misconfigured";

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    readonly slot: string,
    message: string,
  ) {
    super(`${slot}: ${message}`);
    this.name = "ProviderError";
  }
}
