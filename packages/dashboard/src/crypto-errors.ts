/**
 * What the dashboard says when opening or sealing a client-custody version in the browser fails. The crypto's
 * own messages are terse and technical; these say what happened to the person holding the share and what to do.
 * They never quote the share.
 */
import { CryptoError } from "@shardvault/crypto/client";
import type { ShardvaultError } from "@shardvault/sdk";

/** The version a failure is about, as people read it. */
export interface VersionNamed {
  path: string;
  version?: number;
}

const named = ({ path, version }: VersionNamed) => (version === undefined ? `“${path}”` : `version ${version} of “${path}”`);

/** The crypto's code and the dashboard's sentence for it. */
function explain(error: CryptoError, about: VersionNamed): { type: ShardvaultError["type"]; detail: string } {
  const ofThis = named(about);
  switch (error.code) {
    case "client_share_bad_check":
      return { type: "validation_error", detail: "This client share has a typo or is cut short (its check does not match). Paste it again, whole, from where you stored it." };
    case "client_share_bad_encoding":
    case "client_share_wrong_length":
    case "client_share_unknown_version":
    case "client_share_unknown_scheme":
    case "client_share_bad_index":
      return { type: "validation_error", detail: "This is not a client share. A client share is the base64 text shown once when the version was written (or kept in your share file)." };
    case "client_share_mismatch":
      return { type: "validation_error", detail: `This client share belongs to another secret or version, not to ${ofThis}. Use the share of that version.` };
    case "client_share_invalid":
      return {
        type: "validation_error",
        detail: `This client share does not decrypt ${ofThis}. It is not this version's share — or it was replaced when the secret was refreshed: use the newer one.`,
      };
    case "sealed_context_mismatch":
      return { type: "server_error", detail: `The server answered with another secret or version than ${ofThis}. Nothing was decrypted.` };
    default:
      // sealed_malformed, sealed_auth_failed, sealed_unknown_version and the rest: the answer, not the share, is at fault.
      return { type: "server_error", detail: `The server's sealed copy of ${ofThis} could not be opened (${error.code}): it is damaged or in a format this dashboard does not know. Nothing was decrypted.` };
  }
}

/**
 * A failure of the browser-side crypto as the dashboard's error shape (`code` the crypto's). Anything else thrown
 * there is a browser that cannot do the work: WebCrypto exists only in secure contexts (HTTPS or localhost).
 */
export function cryptoFailure(error: unknown, about: VersionNamed): ShardvaultError {
  if (error instanceof CryptoError) {
    const { type, detail } = explain(error, about);
    return { type, code: error.code, message: detail, detail };
  }
  if (!globalThis.crypto?.subtle) {
    const detail = "This browser offers no WebCrypto on this page, which client-custody vaults need: open the dashboard over HTTPS (or on localhost).";
    return { type: "validation_error", code: "client_crypto_unavailable", message: detail, detail };
  }
  const detail = `The browser could not decrypt or encrypt ${named(about)}: ${error instanceof Error ? error.message : String(error)}`;
  return { type: "unknown", code: "client_crypto_failed", message: detail, detail };
}
