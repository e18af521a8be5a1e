/**
 * The key store and operations of the local Google Cloud KMS, whatever the transport: the REST peer
 * (gcp-kms-peer.ts) and the gRPC peer (gcp-kms-grpc-peer.ts) both decode their requests into these calls and
 * encode what they answer.
 *
 * Encryption is real (AES-256-GCM under an in-memory key per CryptoKey version, the AAD and the key's name
 * bound); decrypt under another AAD or another key fails with INVALID_ARGUMENT, as Cloud KMS does; a disabled
 * key version answers FAILED_PRECONDITION. A bearer token is required (UNAUTHENTICATED otherwise). Resources
 * are answered as the REST API shows them (enums as names, times as RFC 3339).
 */
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";

/** A Cloud KMS error: its HTTP status, canonical status name (INVALID_ARGUMENT, …) and message. */
export class GcpError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new GcpError(404, "NOT_FOUND", `${what} not found.`);
export const invalid = (message: string) => new GcpError(400, "INVALID_ARGUMENT", message);
export const throttledError = () =>
  new GcpError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Cryptographic requests' of service 'cloudkms.googleapis.com'.");
export const unavailableError = () => new GcpError(503, "UNAVAILABLE", "The service is currently unavailable.");

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

export interface GcpKmsStoreOptions {
  project?: string;
  location?: string;
  keyRing?: string;
  token?: string;
}

export type GcpKmsStore = ReturnType<typeof createGcpKmsStore>;

export function createGcpKmsStore(opts: GcpKmsStoreOptions = {}) {
  const project = opts.project ?? "shardvault-test";
  const location = opts.location ?? "europe-west1";
  const keyRing = opts.keyRing ?? "shardvault";
  const keyRingName = `projects/${project}/locations/${location}/keyRings/${keyRing}`;
  const keyRingCreated = new Date().toISOString();
  const token = opts.token ?? `ya29.test-${randomBytes(24).toString("base64url")}`;
  const keys = new Map<string, PeerCryptoKey>();

  const versionView = (key: PeerCryptoKey, n: number) => ({
    name: `${key.name}/cryptoKeyVersions/${n}`,
    state: key.versions[n - 1]!.enabled ? "ENABLED" : "DISABLED",
    protectionLevel: "SOFTWARE",
    algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION",
    createTime: key.created,
  });
  const keyView = (key: PeerCryptoKey) => ({
    name: key.name,
    purpose: "ENCRYPT_DECRYPT",
    createTime: key.created,
    labels: key.labels,
    primary: versionView(key, key.versions.length),
    versionTemplate: { protectionLevel: "SOFTWARE", algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION" },
  });

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

  const checkLength = (bytes: Buffer, field: string) => {
    if (bytes.length > 65536) throw invalid(`${field} is too large.`);
    return bytes;
  };

  // Ciphertext: 0x01 | version (u32) | IV (12) | tag (16) | ciphertext; AAD = key name, 0x00, caller's AAD.
  const gcmAad = (name: string, aad: Buffer) => Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0]), aad]);

  return {
    project,
    location,
    keyRing,
    keyRingName,
    token,

    /** Checks an `Authorization` value (HTTP header or gRPC metadata). */
    authenticate(header: string | undefined): void {
      const presented = header?.startsWith("Bearer ") ? Buffer.from(header.slice(7)) : undefined;
      const expected = Buffer.from(token);
      if (!presented || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        throw new GcpError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.");
      }
    },

    createCryptoKey(parent: string, cryptoKeyId: string, purpose: unknown, labels: unknown) {
      if (parent !== keyRingName) throw notFound(`KeyRing ${parent}`);
      if (!/^[A-Za-z0-9_-]{1,63}$/.test(cryptoKeyId)) throw invalid("Invalid cryptoKeyId.");
      if (purpose !== "ENCRYPT_DECRYPT" && purpose !== 1) throw invalid("This operation needs purpose ENCRYPT_DECRYPT.");
      const name = `${keyRingName}/cryptoKeys/${cryptoKeyId}`;
      if (keys.has(name)) throw new GcpError(409, "ALREADY_EXISTS", `CryptoKey ${name} already exists.`);
      const key: PeerCryptoKey = {
        name,
        versions: [{ material: randomBytes(32), enabled: true }],
        created: new Date().toISOString(),
        labels: typeof labels === "object" && labels !== null ? (labels as Record<string, string>) : {},
      };
      keys.set(name, key);
      return keyView(key);
    },

    getCryptoKey: (name: string) => keyView(existingKey(name)),

    listCryptoKeyVersions(parent: string, filter: string | undefined) {
      const key = existingKey(parent);
      if (filter && filter !== "state=ENABLED") throw invalid(`This peer supports filter=state=ENABLED only.`);
      const all = key.versions.map((_, i) => versionView(key, i + 1)).filter((v) => !filter || v.state === "ENABLED");
      return { cryptoKeyVersions: all, totalSize: all.length };
    },

    updateCryptoKeyVersion(name: string, state: unknown, updateMask: readonly string[]) {
      const slash = name.lastIndexOf("/cryptoKeyVersions/");
      const key = existingKey(slash < 0 ? name : name.slice(0, slash));
      const n = Number(name.slice(slash + "/cryptoKeyVersions/".length));
      const version = key.versions[n - 1];
      if (slash < 0 || !version) throw notFound(`CryptoKeyVersion ${name}`);
      if (updateMask.length !== 1 || updateMask[0] !== "state") throw invalid("This peer updates the state only (updateMask=state).");
      if (state === "DISABLED" || state === 2) version.enabled = false;
      else if (state === "ENABLED" || state === 1) version.enabled = true;
      else throw invalid("state must be ENABLED or DISABLED.");
      return versionView(key, n);
    },

    getKeyRing(name: string) {
      if (name !== keyRingName) throw notFound(`KeyRing ${name}`);
      return { name: keyRingName, createTime: keyRingCreated };
    },

    encrypt(name: string, plaintext: Buffer, aad: Buffer) {
      const key = existingKey(name);
      if (plaintext.length === 0) throw invalid("plaintext is required.");
      checkLength(plaintext, "plaintext");
      const version = key.versions.length;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", usableVersion(key, version)!.material, iv);
      cipher.setAAD(gcmAad(key.name, checkLength(aad, "additionalAuthenticatedData")));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const header = Buffer.alloc(5);
      header[0] = 1;
      header.writeUInt32BE(version, 1);
      return { name: `${key.name}/cryptoKeyVersions/${version}`, ciphertext: Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]), protectionLevel: "SOFTWARE" };
    },

    decrypt(name: string, blob: Buffer, aad: Buffer) {
      const key = existingKey(name);
      if (blob.length === 0) throw invalid("ciphertext is required.");
      const failed = () => invalid("Decryption failed: the ciphertext is invalid.");
      if (blob.length < 33 || blob[0] !== 1) throw failed();
      const material = usableVersion(key, blob.readUInt32BE(1))?.material;
      if (!material) throw failed();
      try {
        const decipher = createDecipheriv("aes-256-gcm", material, blob.subarray(5, 17));
        decipher.setAAD(gcmAad(key.name, checkLength(aad, "additionalAuthenticatedData")));
        decipher.setAuthTag(blob.subarray(17, 33));
        return { plaintext: Buffer.concat([decipher.update(blob.subarray(33)), decipher.final()]), usedPrimary: true, protectionLevel: "SOFTWARE" };
      } catch {
        throw failed();
      }
    },

    // For tests: the state of the keys, seen from outside the wire.
    disableKey(name: string) {
      const key = keys.get(name);
      if (!key) throw new Error(`no key ${name}`);
      for (const version of key.versions) version.enabled = false;
    },
    /** Whether a KEK (a CryptoKey resource name, as the backend's KEK ids are) has any version still enabled. */
    kekEnabled(kekId: string) {
      const key = keys.get(kekId);
      if (!key) throw new Error(`no key ${kekId}`);
      return key.versions.some((v) => v.enabled);
    },
    kekIds: () => [...keys.keys()],
    keyCount: () => keys.size,
  };
}

/** What both peers expose besides the wire peer's own members. */
export interface GcpKmsPeerExtras {
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

/** The peer's own members, over `store`, for a peer listening on `port()`. */
export function storeExtras(store: GcpKmsStore, port: () => number): GcpKmsPeerExtras {
  const { project, location, keyRing, keyRingName, token, disableKey, kekEnabled, kekIds, keyCount } = store;
  return {
    project,
    location,
    keyRing,
    keyRingName,
    token,
    get endpoint() {
      return `127.0.0.1:${port()}`;
    },
    disableKey,
    kekEnabled,
    kekIds,
    keyCount,
  };
}
