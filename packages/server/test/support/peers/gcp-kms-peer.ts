/**
 * A local Google Cloud KMS for tests, speaking the service's REST wire protocol (the official
 * `@google-cloud/kms` client reaches it through its HTTP/1.1 REST fallback):
 *
 *   POST /v1/projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys?cryptoKeyId=…   {"purpose": "ENCRYPT_DECRYPT"}
 *   GET  /v1/projects/{p}/locations/{l}/keyRings/{r}[/cryptoKeys/{k}]
 *   POST /v1/…/cryptoKeys/{k}:encrypt   {"plaintext": b64, "additionalAuthenticatedData": b64}
 *   POST /v1/…/cryptoKeys/{k}:decrypt   {"ciphertext": b64, "additionalAuthenticatedData": b64}
 *   GET  /v1/…/cryptoKeys/{k}/cryptoKeyVersions[?filter=state=ENABLED]
 *   PATCH /v1/…/cryptoKeys/{k}/cryptoKeyVersions/{n}?updateMask=state   {"state": "DISABLED" | "ENABLED"}
 *
 * Errors are `{"error": {"code", "message", "status"}}`: 401 UNAUTHENTICATED without the bearer token, 400
 * INVALID_ARGUMENT for a ciphertext that does not open, 400 FAILED_PRECONDITION for a disabled key version.
 * The keys and what the operations do live in gcp-kms-store.ts, shared with the gRPC peer.
 */
import type { ServerResponse } from "node:http";
import { extendPeer, sendJson, startWirePeer, type PeerRequest, type WirePeer } from "./faults.js";
import { createGcpKmsStore, GcpError, invalid, storeExtras, throttledError, unavailableError, type GcpKmsPeerExtras, type GcpKmsStoreOptions } from "./gcp-kms-store.js";

export interface GcpKmsPeer extends WirePeer, GcpKmsPeerExtras {}

/** A `bytes` field of a JSON body (standard or URL-safe base64); absent or empty is empty. */
function bytesField(body: Record<string, unknown>, field: string): Buffer {
  const value = body[field];
  if (value === undefined || value === null || value === "") return Buffer.alloc(0);
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw invalid(`Invalid value at '${field}' (TYPE_BYTES)`);
  return Buffer.from(value, "base64");
}

/** The operation and resource of a request path (`/v1/…[:verb]`). */
function route(method: string, path: string): { operation: string; resource: string } {
  const decoded = decodeURIComponent(path);
  const match = /^\/v1\/(.+?)(?::(encrypt|decrypt))?$/.exec(decoded);
  if (!match) return { operation: "unknown", resource: "" };
  const resource = match[1]!;
  const verb = match[2];
  if (verb === "encrypt" && method === "POST") return { operation: "Encrypt", resource };
  if (verb === "decrypt" && method === "POST") return { operation: "Decrypt", resource };
  if (method === "POST" && resource.endsWith("/cryptoKeys")) return { operation: "CreateCryptoKey", resource: resource.slice(0, -"/cryptoKeys".length) };
  if (method === "GET" && /\/cryptoKeys\/[^/]+$/.test(resource)) return { operation: "GetCryptoKey", resource };
  if (method === "GET" && /\/cryptoKeys\/[^/]+\/cryptoKeyVersions$/.test(resource)) {
    return { operation: "ListCryptoKeyVersions", resource: resource.slice(0, -"/cryptoKeyVersions".length) };
  }
  if (method === "PATCH" && /\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/\d+$/.test(resource)) return { operation: "UpdateCryptoKeyVersion", resource };
  if (method === "GET" && /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+$/.test(resource)) return { operation: "GetKeyRing", resource };
  return { operation: "unknown", resource };
}

export async function startGcpKmsPeer(opts: GcpKmsStoreOptions = {}): Promise<GcpKmsPeer> {
  const store = createGcpKmsStore(opts);

  function operate(operation: string, resource: string, url: URL, body: Record<string, unknown>): unknown {
    switch (operation) {
      case "CreateCryptoKey":
        return store.createCryptoKey(resource, url.searchParams.get("cryptoKeyId") ?? "", body.purpose, body.labels);
      case "GetCryptoKey":
        return store.getCryptoKey(resource);
      case "ListCryptoKeyVersions":
        return store.listCryptoKeyVersions(resource, url.searchParams.get("filter") ?? undefined);
      case "UpdateCryptoKeyVersion":
        return store.updateCryptoKeyVersion(resource, body.state, (url.searchParams.get("updateMask") ?? "").split(",").filter(Boolean));
      case "GetKeyRing":
        return store.getKeyRing(resource);
      case "Encrypt": {
        const plaintext = bytesField(body, "plaintext");
        const out = store.encrypt(resource, plaintext, bytesField(body, "additionalAuthenticatedData"));
        plaintext.fill(0);
        return { ...out, ciphertext: out.ciphertext.toString("base64") };
      }
      case "Decrypt": {
        const out = store.decrypt(resource, bytesField(body, "ciphertext"), bytesField(body, "additionalAuthenticatedData"));
        const answer = { ...out, plaintext: out.plaintext.toString("base64") };
        out.plaintext.fill(0);
        return answer;
      }
      default:
        throw new GcpError(404, "NOT_FOUND", "The requested URL was not found on this server.");
    }
  }

  const respondError = (res: ServerResponse, error: GcpError) =>
    sendJson(res, error.code, { error: { code: error.code, message: error.message, status: error.status } });

  const peer = await startWirePeer({
    operation: (req, url) => route(req.method ?? "GET", url.pathname).operation,
    throttled: (res) => respondError(res, throttledError()),
    serverError: (res) => respondError(res, unavailableError()),
    handle({ req, res, url, body }: PeerRequest) {
      try {
        store.authenticate(req.headers.authorization);
        const { operation, resource } = route(req.method ?? "GET", url.pathname);
        let input: unknown = {};
        if (req.method === "POST" || req.method === "PATCH") {
          try {
            input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
          } catch {
            throw invalid("Invalid JSON payload received.");
          }
          if (typeof input !== "object" || input === null || Array.isArray(input)) throw invalid("Invalid JSON payload received.");
        }
        sendJson(res, 200, operate(operation, resource, url, input as Record<string, unknown>));
      } catch (error) {
        if (error instanceof GcpError) return respondError(res, error);
        throw error;
      }
    },
  });

  return extendPeer(peer, storeExtras(store, () => peer.port));
}

/** The `providers.<slot>` fields (and the environment they name) of a `gcp-kms` slot on this peer (REST). */
export function gcpKmsSlotConfig(peer: GcpKmsPeerExtras, extra: Record<string, unknown> = {}): { fields: Record<string, unknown>; env: Record<string, string> } {
  return {
    fields: {
      project: peer.project,
      location: peer.location,
      key_ring: peer.keyRing,
      endpoint: peer.endpoint,
      transport: "rest",
      access_token_env: "SV_PEER_GCP_TOKEN",
      ...extra,
    },
    env: { SV_PEER_GCP_TOKEN: peer.token },
  };
}
