/**
 * A local AWS KMS for tests, speaking the service's wire protocol (AWS JSON 1.1: `POST /`,
 * `X-Amz-Target: TrentService.<Operation>`, base64 blobs, errors as HTTP 400 `{"__type", "message"}`), so the
 * official `@aws-sdk/client-kms` talks to it unchanged over loopback.
 *
 * It verifies each request's SigV4 signature against the credentials it was started with (unknown access
 * key: UnrecognizedClientException; wrong secret: InvalidSignatureException; no header:
 * MissingAuthenticationTokenException), really encrypts (AES-256-GCM under an in-memory key per KMS key,
 * the EncryptionContext bound as associated data), and enforces what KMS enforces: the same context on
 * Decrypt, the KeyId pinned on Decrypt, enabled keys only.
 *
 * Operations: CreateKey, Encrypt, Decrypt, DescribeKey, ListKeys, DisableKey.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extendPeer, sendJson, startWirePeer, type PeerRequest, type WirePeer } from "./faults.js";

export interface AwsKmsPeer extends WirePeer {
  readonly region: string;
  readonly accountId: string;
  /** Credentials the peer accepts; give them to the SDK. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  disableKey(keyId: string): void;
  /** Whether a KEK (a KeyId, as the backend's KEK ids are) is enabled. */
  kekEnabled(kekId: string): boolean;
  /** Every KEK the peer holds, as KEK ids. */
  kekIds(): string[];
  enableKey(keyId: string): void;
  /** Number of keys created. */
  keyCount(): number;
}

interface PeerKey {
  keyId: string;
  arn: string;
  material: Buffer;
  enabled: boolean;
  description: string;
  created: number;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const sha256hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** The canonical bytes of an EncryptionContext: its pairs sorted by key, as JSON. */
function contextBytes(context: unknown): Buffer {
  if (context === undefined || context === null) return Buffer.alloc(0);
  if (typeof context !== "object" || Array.isArray(context)) throw new KmsError("ValidationException", "EncryptionContext must be a map");
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [, value] of entries) if (typeof value !== "string") throw new KmsError("ValidationException", "EncryptionContext values must be strings");
  return Buffer.from(JSON.stringify(entries), "utf8");
}

function decodeBlob(value: unknown, field: string, max: number): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new KmsError("ValidationException", `${field} must be base64`);
  const bytes = Buffer.from(value, "base64");
  if (bytes.length < 1 || bytes.length > max) throw new KmsError("ValidationException", `${field} must be 1 to ${max} bytes`);
  return bytes;
}

export async function startAwsKmsPeer(opts: { region?: string; accessKeyId?: string; secretAccessKey?: string } = {}): Promise<AwsKmsPeer> {
  const region = opts.region ?? "eu-west-1";
  const accountId = "111122223333";
  const accessKeyId = opts.accessKeyId ?? `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(30).toString("base64");
  const keys = new Map<string, PeerKey>();

  /** Checks the SigV4 signature the way the service does: same canonical request, same derived key. */
  function authenticate(req: IncomingMessage, body: Buffer): void {
    const header = req.headers.authorization;
    if (!header) throw new KmsError("MissingAuthenticationTokenException", "Missing Authentication Token");
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header);
    if (!match) throw new KmsError("IncompleteSignatureException", "Authorization header is malformed");
    const [, keyId, date, scopeRegion, service, signedHeaders, signature] = match as unknown as string[];
    if (keyId !== accessKeyId) throw new KmsError("UnrecognizedClientException", "The security token included in the request is invalid.");
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    if (!amzDate.startsWith(date!) || scopeRegion !== region || service !== "kms") {
      throw new KmsError("InvalidSignatureException", "Credential should be scoped to a valid region, service and date.");
    }
    const names = signedHeaders!.split(";");
    if (!names.includes("host") || !names.includes("x-amz-date")) throw new KmsError("InvalidSignatureException", "host and x-amz-date must be signed");
    const canonicalHeaders = names
      .map((name) => {
        const value = req.headers[name];
        const text = Array.isArray(value) ? value.join(",") : (value ?? "");
        return `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
      })
      .join("");
    const payloadHash = typeof req.headers["x-amz-content-sha256"] === "string" ? req.headers["x-amz-content-sha256"] : sha256hex(body);
    const url = new URL(req.url ?? "/", "http://peer");
    const canonicalRequest = [req.method, url.pathname || "/", url.search.slice(1), canonicalHeaders, signedHeaders, payloadHash].join("\n");
    const scope = `${date}/${region}/kms/aws4_request`;
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256hex(canonicalRequest)].join("\n");
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region), "kms"), "aws4_request");
    const expected = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest();
    if (!timingSafeEqual(expected, Buffer.from(signature!, "hex"))) {
      throw new KmsError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
      );
    }
  }

  function resolveKey(ref: unknown): PeerKey {
    if (typeof ref !== "string" || ref === "") throw new KmsError("ValidationException", "KeyId is required");
    const id = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
    const key = keys.get(id);
    if (!key || (ref.startsWith("arn:") && ref !== key.arn)) throw new KmsError("NotFoundException", `Key '${ref}' does not exist`);
    return key;
  }

  function usable(key: PeerKey): PeerKey {
    if (!key.enabled) throw new KmsError("DisabledException", `${key.arn} is disabled.`);
    return key;
  }

  const metadata = (key: PeerKey) => ({
    AWSAccountId: accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.created / 1000,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.enabled ? "Enabled" : "Disabled",
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    KeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
    MultiRegion: false,
  });

  // Ciphertext blob: 0x01 | key id length | key id | IV (12) | tag (16) | ciphertext.
  function encrypt(key: PeerKey, plaintext: Buffer, context: Buffer): Buffer {
    const id = Buffer.from(key.keyId, "utf8");
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key.material, iv);
    cipher.setAAD(Buffer.concat([id, context]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([1, id.length]), id, iv, cipher.getAuthTag(), ciphertext]);
  }

  function decrypt(blob: Buffer, context: Buffer, pinned: unknown): { key: PeerKey; plaintext: Buffer } {
    const invalid = () => new KmsError("InvalidCiphertextException", "");
    if (blob.length < 2 || blob[0] !== 1) throw invalid();
    const idLength = blob[1]!;
    if (blob.length < 2 + idLength + 28) throw invalid();
    const id = blob.subarray(2, 2 + idLength);
    const key = keys.get(id.toString("utf8"));
    if (!key) throw invalid();
    if (pinned !== undefined && resolveKey(pinned).keyId !== key.keyId) {
      throw new KmsError("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.");
    }
    usable(key);
    const iv = blob.subarray(2 + idLength, 14 + idLength);
    const tag = blob.subarray(14 + idLength, 30 + idLength);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.material, iv);
      decipher.setAAD(Buffer.concat([id, context]));
      decipher.setAuthTag(tag);
      return { key, plaintext: Buffer.concat([decipher.update(blob.subarray(30 + idLength)), decipher.final()]) };
    } catch {
      throw invalid();
    }
  }

  function operate(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case "CreateKey": {
        if (input.KeyUsage !== undefined && input.KeyUsage !== "ENCRYPT_DECRYPT") throw new KmsError("ValidationException", "unsupported KeyUsage");
        const spec = input.KeySpec ?? input.CustomerMasterKeySpec;
        if (spec !== undefined && spec !== "SYMMETRIC_DEFAULT") throw new KmsError("ValidationException", "unsupported KeySpec");
        const keyId = randomUUID();
        const key: PeerKey = {
          keyId,
          arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
          material: randomBytes(32),
          enabled: true,
          description: typeof input.Description === "string" ? input.Description : "",
          created: Date.now(),
        };
        keys.set(keyId, key);
        return { KeyMetadata: metadata(key) };
      }
      case "Encrypt": {
        const key = usable(resolveKey(input.KeyId));
        const plaintext = decodeBlob(input.Plaintext, "Plaintext", 4096);
        const blob = encrypt(key, plaintext, contextBytes(input.EncryptionContext));
        plaintext.fill(0);
        return { CiphertextBlob: blob.toString("base64"), KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
      }
      case "Decrypt": {
        const blob = decodeBlob(input.CiphertextBlob, "CiphertextBlob", 6144);
        const { key, plaintext } = decrypt(blob, contextBytes(input.EncryptionContext), input.KeyId);
        const answer = { Plaintext: plaintext.toString("base64"), KeyId: key.arn, EncryptionAlgorithm: "SYMMETRIC_DEFAULT" };
        plaintext.fill(0);
        return answer;
      }
      case "DescribeKey":
        return { KeyMetadata: metadata(resolveKey(input.KeyId)) };
      case "DisableKey":
        resolveKey(input.KeyId).enabled = false;
        return {};
      case "ListKeys": {
        const limit = typeof input.Limit === "number" ? input.Limit : 100;
        const all = [...keys.values()];
        return { Keys: all.slice(0, limit).map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: all.length > limit };
      }
      default:
        throw new KmsError("UnknownOperationException", `unknown operation ${operation}`);
    }
  }

  const respondError = (res: ServerResponse, error: KmsError) =>
    sendJson(res, error.status, { __type: error.type, message: error.message }, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });

  const peer = await startWirePeer({
    operation: (req) => String(req.headers["x-amz-target"] ?? "").replace(/^TrentService\./, "") || "unknown",
    throttled: (res) => respondError(res, new KmsError("ThrottlingException", "Rate exceeded")),
    serverError: (res) => respondError(res, new KmsError("KMSInternalException", "An internal error occurred.", 500)),
    handle({ req, res, body, operation }: PeerRequest) {
      try {
        if (req.method !== "POST") throw new KmsError("UnknownOperationException", "only POST /", 404);
        authenticate(req, body);
        const target = String(req.headers["x-amz-target"] ?? "");
        if (!target.startsWith("TrentService.")) throw new KmsError("UnknownOperationException", "missing X-Amz-Target");
        if (!String(req.headers["content-type"] ?? "").startsWith("application/x-amz-json-1.1")) {
          throw new KmsError("SerializationException", "Content-Type must be application/x-amz-json-1.1");
        }
        let input: unknown;
        try {
          input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
        } catch {
          throw new KmsError("SerializationException", "body is not JSON");
        }
        if (typeof input !== "object" || input === null || Array.isArray(input)) throw new KmsError("SerializationException", "body must be an object");
        const answer = operate(operation, input as Record<string, unknown>);
        sendJson(res, 200, answer, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
      } catch (error) {
        if (error instanceof KmsError) return respondError(res, error);
        throw error;
      }
    },
  });

  const setEnabled = (keyId: string, enabled: boolean) => {
    const key = keys.get(keyId);
    if (!key) throw new Error(`no key ${keyId}`);
    key.enabled = enabled;
  };

  return extendPeer(peer, {
    region,
    accountId,
    accessKeyId,
    secretAccessKey,
    disableKey: (keyId: string) => setEnabled(keyId, false),
    enableKey: (keyId: string) => setEnabled(keyId, true),
    kekEnabled(kekId: string) {
      const key = keys.get(kekId);
      if (!key) throw new Error(`no key ${kekId}`);
      return key.enabled;
    },
    kekIds: () => [...keys.keys()],
    keyCount: () => keys.size,
  });
}

/** The `providers.<slot>` fields (and the environment they name) of an `aws-kms` slot on this peer. */
export function awsKmsSlotConfig(peer: AwsKmsPeer, extra: Record<string, unknown> = {}): { fields: Record<string, unknown>; env: Record<string, string> } {
  return {
    fields: {
      region: peer.region,
      endpoint: peer.url,
      access_key_id_env: "SV_PEER_AWS_ACCESS_KEY_ID",
      secret_access_key_env: "SV_PEER_AWS_SECRET_ACCESS_KEY",
      ...extra,
    },
    env: { SV_PEER_AWS_ACCESS_KEY_ID: peer.accessKeyId, SV_PEER_AWS_SECRET_ACCESS_KEY: peer.secretAccessKey },
  };
}
