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
 * Errors are `{"error": {"code", "message", "status"}}`. A bearer token is required (401 UNAUTHENTICATED
 * otherwise); encryption is real (AES-256-GCM under an in-memory key per CryptoKey version, the AAD and the
 * key's name bound), and decrypt under another AAD or another key fails with 400 INVALID_ARGUMENT, as Cloud
 * KMS does; a disabled key version answers 400 FAILED_PRECONDITION.
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import { extendPeer, sendJson, startWirePeer, type PeerRequest, type WirePeer } from "./faults.js";

export interface GcpKmsPeer extends WirePeer {
  readonly project: string;
  readonly location: string;
  readonly keyRing: string;
  /** `projects/{p}/locations/{l}/keyRings/{r}` */
  readonly keyRingName: string;
  /** The bearer token the peer accepts. */
  readonly token: string;
  /** `127.0.0.1:PORT`, the form the backend's `endpoint` field takes. */
  readonly endpoint: string;
  disableKey(name: string): void;
  /** Whether a KEK (a CryptoKey resource name, as the backend's KEK ids are) has any version still enabled. */
  kekEnabled(kekId: string): boolean;
  /** Every KEK the peer holds, as KEK ids. */
  kekIds(): string[];
  keyCount(): number;
}

interface PeerVersion {
  material: Buffer;
  enabled: boolean;
}

interface PeerCryptoKey {
  name: string;
  versions: PeerVersion[];
  created: string;
  labels: Record<string, string>;
}

class GcpError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (what: string) => new GcpError(404, "NOT_FOUND", `${what} not found.`);
const invalid = (message: string) => new GcpError(400, "INVALID_ARGUMENT", message);

function bytesField(body: Record<string, unknown>, field: string, required: boolean): Buffer {
  const value = body[field];
  if (value === undefined || value === null || value === "") {
    if (required) throw invalid(`${field} is required.`);
    return Buffer.alloc(0);
  }
  if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw invalid(`Invalid value at '${field}' (TYPE_BYTES)`);
  const bytes = Buffer.from(value, "base64");
  if (bytes.length > 65536) throw invalid(`${field} is too large.`);
  return bytes;
}

export async function startGcpKmsPeer(opts: { project?: string; location?: string; keyRing?: string; token?: string } = {}): Promise<GcpKmsPeer> {
  const project = opts.project ?? "shardvault-test";
  const location = opts.location ?? "europe-west1";
  const keyRing = opts.keyRing ?? "shardvault";
  const keyRingName = `projects/${project}/locations/${location}/keyRings/${keyRing}`;
  const keyRingCreated = new Date().toISOString();
  const token = opts.token ?? `ya29.test-${randomBytes(24).toString("base64url")}`;
  const keys = new Map<string, PeerCryptoKey>();

  const versionJson = (key: PeerCryptoKey, n: number) => ({
    name: `${key.name}/cryptoKeyVersions/${n}`,
    state: key.versions[n - 1]!.enabled ? "ENABLED" : "DISABLED",
    protectionLevel: "SOFTWARE",
    algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION",
    createTime: key.created,
  });
  const keyJson = (key: PeerCryptoKey) => ({
    name: key.name,
    purpose: "ENCRYPT_DECRYPT",
    createTime: key.created,
    labels: key.labels,
    primary: versionJson(key, key.versions.length),
    versionTemplate: { protectionLevel: "SOFTWARE", algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" },
  });

  function authenticate(header: string | undefined): void {
    const presented = header?.startsWith("Bearer ") ? Buffer.from(header.slice(7)) : undefined;
    const expected = Buffer.from(token);
    if (!presented || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      throw new GcpError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
    }
  }

  function existingKey(name: string): PeerCryptoKey {
    const key = keys.get(name);
    if (!key) throw notFound(`CryptoKey ${name}`);
    return key;
  }

  function usableVersion(key: PeerCryptoKey, n: number): PeerVersion | undefined {
    const version = key.versions[n - 1];
    if (version && !version.enabled) {
      throw new GcpError(400, "FAILED_PRECONDITION", `${key.name}/cryptoKeyVersions/${n} is not enabled, current state is: DISABLED.`);
    }
    return version;
  }

  // Ciphertext: 0x01 | version (u32) | IV (12) | tag (16) | ciphertext; AAD = key name, 0x00, caller's AAD.
  const gcmAad = (name: string, aad: Buffer) => Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0]), aad]);

  function encrypt(key: PeerCryptoKey, plaintext: Buffer, aad: Buffer): Buffer {
    const version = key.versions.length;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", usableVersion(key, version)!.material, iv);
    cipher.setAAD(gcmAad(key.name, aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const header = Buffer.alloc(5);
    header[0] = 1;
    header.writeUInt32BE(version, 1);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  function decrypt(key: PeerCryptoKey, blob: Buffer, aad: Buffer): Buffer {
    const failed = () => invalid("Decryption failed: the ciphertext is invalid.");
    if (blob.length < 33 || blob[0] !== 1) throw failed();
    const material = usableVersion(key, blob.readUInt32BE(1))?.material;
    if (!material) throw failed();
    try {
      const decipher = createDecipheriv("aes-256-gcm", material, blob.subarray(5, 17));
      decipher.setAAD(gcmAad(key.name, aad));
      decipher.setAuthTag(blob.subarray(17, 33));
      return Buffer.concat([decipher.update(blob.subarray(33)), decipher.final()]);
    } catch {
      throw failed();
    }
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

  function operate(operation: string, resource: string, url: URL, body: Record<string, unknown>): unknown {
    switch (operation) {
      case "CreateCryptoKey": {
        if (resource !== keyRingName) throw notFound(`KeyRing ${resource}`);
        const id = url.searchParams.get("cryptoKeyId") ?? "";
        if (!/^[A-Za-z0-9_-]{1,63}$/.test(id)) throw invalid("Invalid cryptoKeyId.");
        if (body.purpose !== "ENCRYPT_DECRYPT" && body.purpose !== 1) throw invalid("This operation needs purpose ENCRYPT_DECRYPT.");
        const name = `${keyRingName}/cryptoKeys/${id}`;
        if (keys.has(name)) throw new GcpError(409, "ALREADY_EXISTS", `CryptoKey ${name} already exists.`);
        const labels = typeof body.labels === "object" && body.labels !== null ? (body.labels as Record<string, string>) : {};
        const key: PeerCryptoKey = { name, versions: [{ material: randomBytes(32), enabled: true }], created: new Date().toISOString(), labels };
        keys.set(name, key);
        return keyJson(key);
      }
      case "GetCryptoKey": {
        const key = keys.get(resource);
        if (!key) throw notFound(`CryptoKey ${resource}`);
        return keyJson(key);
      }
      case "ListCryptoKeyVersions": {
        const key = existingKey(resource);
        const filter = url.searchParams.get("filter");
        if (filter !== null && filter !== "" && filter !== "state=ENABLED") throw invalid(`This peer supports filter=state=ENABLED only.`);
        const all = key.versions.map((_, i) => versionJson(key, i + 1)).filter((v) => !filter || v.state === "ENABLED");
        return { cryptoKeyVersions: all, totalSize: all.length };
      }
      case "UpdateCryptoKeyVersion": {
        const slash = resource.lastIndexOf("/cryptoKeyVersions/");
        const key = existingKey(resource.slice(0, slash));
        const n = Number(resource.slice(slash + "/cryptoKeyVersions/".length));
        const version = key.versions[n - 1];
        if (!version) throw notFound(`CryptoKeyVersion ${resource}`);
        if (url.searchParams.get("updateMask") !== "state") throw invalid("This peer updates the state only (updateMask=state).");
        const state = body.state;
        if (state === "DISABLED" || state === 2) version.enabled = false;
        else if (state === "ENABLED" || state === 1) version.enabled = true;
        else throw invalid("state must be ENABLED or DISABLED.");
        return versionJson(key, n);
      }
      case "GetKeyRing":
        if (resource !== keyRingName) throw notFound(`KeyRing ${resource}`);
        return { name: keyRingName, createTime: keyRingCreated };
      case "Encrypt": {
        const key = existingKey(resource);
        const plaintext = bytesField(body, "plaintext", true);
        const ciphertext = encrypt(key, plaintext, bytesField(body, "additionalAuthenticatedData", false));
        plaintext.fill(0);
        return { name: `${key.name}/cryptoKeyVersions/${key.versions.length}`, ciphertext: ciphertext.toString("base64"), protectionLevel: "SOFTWARE" };
      }
      case "Decrypt": {
        const key = existingKey(resource);
        const plaintext = decrypt(key, bytesField(body, "ciphertext", true), bytesField(body, "additionalAuthenticatedData", false));
        const answer = { plaintext: plaintext.toString("base64"), usedPrimary: true, protectionLevel: "SOFTWARE" };
        plaintext.fill(0);
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
    throttled: (res) =>
      respondError(res, new GcpError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests' of service 'cloudkms.googleapis.com'.")),
    serverError: (res) => respondError(res, new GcpError(503, "UNAVAILABLE", "The service is currently unavailable.")),
    handle({ req, res, url, body }: PeerRequest) {
      try {
        authenticate(req.headers.authorization);
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

  return extendPeer(peer, {
    project,
    location,
    keyRing,
    keyRingName,
    token,
    get endpoint() {
      return `127.0.0.1:${peer.port}`;
    },
    disableKey(name: string) {
      const key = keys.get(name);
      if (!key) throw new Error(`no key ${name}`);
      for (const version of key.versions) version.enabled = false;
    },
    kekEnabled(kekId: string) {
      const key = keys.get(kekId);
      if (!key) throw new Error(`no key ${kekId}`);
      return key.versions.some((v) => v.enabled);
    },
    kekIds: () => [...keys.keys()],
    keyCount: () => keys.size,
  });
}

/** The `providers.<slot>` fields (and the environment they name) of a `gcp-kms` slot on this peer. */
export function gcpKmsSlotConfig(peer: GcpKmsPeer, extra: Record<string, unknown> = {}): { fields: Record<string, unknown>; env: Record<string, string> } {
  return {
    fields: {
      project: peer.project,
      location: peer.location,
      key_ring: peer.keyRing,
      endpoint: peer.endpoint,
      access_token_env: "SV_PEER_GCP_TOKEN",
      ...extra,
    },
    env: { SV_PEER_GCP_TOKEN: peer.token },
  };
}
