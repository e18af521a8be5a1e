/**
 * What the dashboard says when opening or sealing a client-custody version in the browser fails (the SDK answers
 * the crypto's code). The crypto's own messages are terse and technical; these say what happened to the person
 * holding the share and what to do. They never quote the share.
 */
import type { ShardvaultError } from "@shardvault/sdk";

/** The version a failure is about, as people read it. */
export interface VersionNamed {
  path: string;
  version?: number;
}

const named = ({ path, version }: VersionNamed) => (version === undefined ? `“${path}”` : `version ${version} of “${path}”`);

/** The dashboard's sentence for a client-side crypto failure's code; undefined for any other code. */
function explain(code: string, about: VersionNamed): { type: ShardvaultError["type"]; detail: string } | undefined {
  const ofThis = named(about);
  switch (code) {
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
    case "sealed_malformed":
    case "sealed_auth_failed":
    case "sealed_unknown_version":
      // The answer, not the share, is at fault.
      return { type: "server_error", detail: `The server's sealed copy of ${ofThis} could not be opened (${code}): it is damaged or in a format this dashboard does not know. Nothing was decrypted.` };
    default:
      return undefined;
  }
}

/** An SDK error in the dashboard's words when it is a client-side crypto failure; any other error as it is. */
export function explained(error: ShardvaultError, about: VersionNamed): ShardvaultError {
  const sentence = explain(error.code, about);
  return sentence ? { ...error, type: sentence.type, message: sentence.detail, detail: sentence.detail } : error;
}

/**
 * What the SDK throws rather than answers: a browser that cannot do the work (WebCrypto exists only in secure
 * contexts, HTTPS or localhost), or anything else that broke the crypto here.
 */
export function cryptoFailure(error: unknown, about: VersionNamed): ShardvaultError {
  if (!globalThis.crypto?.subtle) {
    const detail = "This browser offers no WebCrypto on this page, which client-custody vaults need: open the dashboard over HTTPS (or on localhost).";
    return { type: "validation_error", code: "client_crypto_unavailable", message: detail, detail };
  }
  const detail = `The browser could not decrypt or encrypt ${named(about)}: ${error instanceof Error ? error.message : String(error)}`;
  return { type: "unknown", code: "client_crypto_failed", message: detail, detail };
}
