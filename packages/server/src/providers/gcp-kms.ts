/**
 * `{"backend": "gcp-kms", "project": "…", "location": "…", "key_ring": "…"}`: Google Cloud KMS through the
 * official `@google-cloud/kms` (5.x) KeyManagementServiceClient.
 *
 * Per-vault KEKs (the default) are CryptoKeys (purpose ENCRYPT_DECRYPT) in the configured key ring, one CryptoKey
 * per KEK, named after the vault with a random suffix; the KEK id is the CryptoKey's resource name. A vault's
 * next KEK is therefore a different CryptoKey, and disabling its former KEK (every version of that CryptoKey)
 * touches nothing else. Wrapping is Cloud KMS encrypt/decrypt with
 * the binding as `additionalAuthenticatedData`: decrypt under any other binding fails (INVALID_ARGUMENT).
 *
 * Transport (`transport`): gRPC, the SDK's default, or `rest`, its HTTP/1.1 REST fallback; to
 * cloudkms.googleapis.com or `endpoint`, over TLS. Only an `endpoint` on a loopback host (a local peer) is
 * reached without TLS: plain http for REST, insecure channel credentials for gRPC — where gRPC cannot attach
 * call credentials, so the bearer token goes as per-call metadata instead. Credentials: `credentials_file` (a
 * service-account JSON), `access_token_env` (a static bearer token, held by a google-auth-library
 * OAuth2Client), or else Application Default Credentials.
 *
 * Calls go through the client's gax call functions (`innerApiCalls`), which return cancellable calls: an
 * aborted signal cancels the gRPC call or the HTTP request instead of leaving it running. (They also skip the
 * generated wrappers' debug logging, which would print requests, plaintext included, when
 * GOOGLE_SDK_NODE_LOGGING is set.) gax's own retries are off (`retry: null`); ours are bounded and jittered.
 */
import type { KeyManagementServiceClient as KmsClient, protos } from "@google-cloud/kms";
import { resolve } from "node:path";
import { isLoopback } from "../config/env.js";
import { ConfigError, fieldReader, type Backend, type BackendContext } from "./backend.js";
import {
  callWithRetries,
  DEFAULT_RETRY_BASE_MS,
  networkCode,
  newKekKeyName,
  probeHealth,
  raceSignal,
  readKekStrategy,
  readMaxRetries,
  requireEnv,
  safeMessage,
  type Classified,
  type KekStrategy,
} from "./cloud-common.js";
import { ProviderError, type CallOptions, type KeyProvider } from "./provider.js";

type IEncryptResponse = protos.google.cloud.kms.v1.IEncryptResponse;
type IDecryptResponse = protos.google.cloud.kms.v1.IDecryptResponse;
type ICryptoKey = protos.google.cloud.kms.v1.ICryptoKey;
type IKeyRing = protos.google.cloud.kms.v1.IKeyRing;
type ICryptoKeyVersion = protos.google.cloud.kms.v1.ICryptoKeyVersion;

export interface GcpKmsConfig {
  project: string;
  location: string;
  keyRing: string;
  /** gRPC (the SDK's default) or the REST fallback. */
  transport: "grpc" | "rest";
  /** `host:port`; a loopback host (a local peer) is reached without TLS. */
  endpoint: { host: string; port: number; loopback: boolean } | undefined;
  credentialsFile: string | undefined;
  accessTokenEnv: string | undefined;
  kekStrategy: KekStrategy;
  /** The shared CryptoKey's id within the key ring, with `kek_strategy: "shared"`. */
  keyName: string | undefined;
  maxRetries: number;
  retryBaseMs: number;
}

const FIELDS = ["project", "location", "key_ring", "endpoint", "transport", "credentials_file", "access_token_env", "kek_strategy", "key_name", "max_retries"];
const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$/;
const CRYPTO_KEY_ID = /^[A-Za-z0-9_-]{1,63}$/;
const CRYPTO_KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[A-Za-z0-9_-]{1,63}$/;

function parse(slot: string, fields: Record<string, unknown>, ctx: BackendContext): GcpKmsConfig {
  const read = fieldReader(slot, "gcp-kms", fields, FIELDS);
  const resourceId = (key: string) => {
    const value = read.string(key);
    if (!RESOURCE_ID.test(value)) throw new ConfigError(`providers.${slot}.${key} must be a resource id (letters, digits, _ . : -), not a path`);
    return value;
  };
  const project = resourceId("project");
  const location = resourceId("location");
  const keyRing = resourceId("key_ring");
  let endpoint: GcpKmsConfig["endpoint"];
  const rawEndpoint = read.optionalString("endpoint");
  if (rawEndpoint !== undefined) {
    const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(rawEndpoint);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) throw new ConfigError(`providers.${slot}.endpoint must be host:port`);
    endpoint = { host: match[1]!, port, loopback: isLoopback(match[1]!) };
  }
  const transport = read.optionalEnum("transport", ["grpc", "rest"] as const) ?? "grpc";
  const credentialsFile = read.optionalString("credentials_file");
  const accessTokenEnv = fields.access_token_env === undefined ? undefined : read.envVarName("access_token_env");
  if (credentialsFile !== undefined && accessTokenEnv !== undefined) {
    throw new ConfigError(`providers.${slot}: give credentials_file or access_token_env, not both`);
  }
  if (accessTokenEnv !== undefined) requireEnv(slot, "access_token_env", accessTokenEnv, ctx.env);
  const { strategy, sharedKey } = readKekStrategy(slot, fields, read, "key_name");
  if (sharedKey !== undefined && !CRYPTO_KEY_ID.test(sharedKey)) {
    throw new ConfigError(`providers.${slot}.key_name must be a CryptoKey id in the key ring (letters, digits, _ -)`);
  }
  return {
    project,
    location,
    keyRing,
    transport,
    endpoint,
    credentialsFile: credentialsFile === undefined ? undefined : resolve(ctx.configDir, credentialsFile),
    accessTokenEnv,
    kekStrategy: strategy,
    keyName: sharedKey,
    maxRetries: readMaxRetries(slot, fields),
    retryBaseMs: DEFAULT_RETRY_BASE_MS,
  };
}

// gRPC status codes, and the HTTP statuses the REST transport may carry instead (the two ranges do not overlap).
const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

function statusCode(error: unknown): number | undefined {
  const e = (error ?? {}) as { code?: unknown; status?: unknown; response?: { status?: unknown } };
  if (typeof e.code === "number") return e.code;
  if (typeof e.status === "number") return e.status;
  if (typeof e.response?.status === "number") return e.response.status;
  return undefined;
}

export function isAlreadyExists(error: unknown): boolean {
  const code = statusCode(error);
  return code === GRPC.ALREADY_EXISTS || code === 409;
}

/**
 * The service's own error: in gRPC mode a GoogleError (`code` = gRPC code); in REST mode the HTTP error, whose
 * `code` is the HTTP status and whose message is the JSON body `{"error": {"code", "message", "status"}}`.
 */
function serviceError(error: unknown): { code: number | undefined; status: string | undefined; message: string } {
  const e = (error ?? {}) as { message?: unknown; details?: unknown };
  const code = statusCode(error);
  const text = typeof e.message === "string" ? e.message : "";
  if (text.startsWith("{")) {
    try {
      const body = JSON.parse(text) as { error?: { status?: unknown; message?: unknown } };
      return {
        code,
        status: typeof body.error?.status === "string" ? body.error.status : undefined,
        message: typeof body.error?.message === "string" ? body.error.message : "",
      };
    } catch {
      // not the JSON body after all
    }
  }
  return { code, status: undefined, message: text || (typeof e.details === "string" ? e.details : "") };
}

export function classifyGcpError(operation: string) {
  return (error: unknown): Classified => {
    const net = networkCode(error);
    if (net) return { kind: "unavailable", retryable: true, notExecuted: net === "ECONNREFUSED", what: `connection failed (${net})` };
    const { code, status, message } = serviceError(error);
    const what = `${status ?? (typeof (error as { name?: unknown })?.name === "string" ? (error as { name: string }).name : "Error")}${
      code !== undefined ? ` (code ${code})` : ""
    }${message ? `: ${safeMessage(message)}` : ""}`;
    const result = (kind: Classified["kind"], retryable = false, notExecuted = false): Classified => ({ kind, retryable, notExecuted, what });
    if (code === undefined) {
      // No status at all: the auth library failing to produce a token (no credentials, unreadable file, …).
      return result("misconfigured");
    }
    if (code === GRPC.RESOURCE_EXHAUSTED || code === 429) return result("unavailable", true, true);
    if ([GRPC.UNAVAILABLE, GRPC.DEADLINE_EXCEEDED, GRPC.INTERNAL, GRPC.ABORTED, GRPC.UNKNOWN, 408].includes(code as never) || (code >= 500 && code <= 599)) {
      return result("unavailable", true);
    }
    if (code === GRPC.CANCELLED) return result("unavailable");
    // A ciphertext that does not open (wrong AAD, wrong key, altered bytes) is INVALID_ARGUMENT; a disabled key is
    // FAILED_PRECONDITION, which REST also sends as HTTP 400, so the status name decides.
    const invalidArgument = code === GRPC.INVALID_ARGUMENT || (code === 400 && (status === undefined || status === "INVALID_ARGUMENT"));
    if (invalidArgument && operation === "decrypt") return result("integrity");
    // UNAUTHENTICATED/401, PERMISSION_DENIED/403, NOT_FOUND/404, FAILED_PRECONDITION, INVALID_ARGUMENT elsewhere, …
    return result("misconfigured");
  };
}

/** Bytes from a proto `bytes` field (a Buffer from the SDK, or base64 text). */
function bytesOf(value: Uint8Array | string | null | undefined): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === "string" ? Buffer.from(value, "base64") : value;
}

type GaxCall<T> = Promise<[T, ...unknown[]]> & { cancel?: () => void };

export async function createGcpKmsProvider(slot: string, config: GcpKmsConfig, env: NodeJS.ProcessEnv): Promise<KeyProvider> {
  // The SDK (gax, gRPC, the auth library) loads when a slot uses it, not with every server start.
  const { KeyManagementServiceClient } = await import("@google-cloud/kms");
  const keyRingName = `projects/${config.project}/locations/${config.location}/keyRings/${config.keyRing}`;
  const auth: Record<string, unknown> = {};
  if (config.accessTokenEnv !== undefined) {
    const { OAuth2Client } = await import("google-auth-library");
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: requireEnv(slot, "access_token_env", config.accessTokenEnv, env) });
    auth.authClient = authClient;
  } else if (config.credentialsFile !== undefined) {
    auth.keyFilename = config.credentialsFile;
  }
  const endpoint = config.endpoint;
  const plaintext = endpoint?.loopback === true;
  const options: Record<string, unknown> = { ...(endpoint ? { apiEndpoint: endpoint.host, port: endpoint.port } : {}), ...auth };
  if (config.transport === "rest") {
    options.fallback = "rest";
    if (plaintext) options.protocol = "http";
  } else if (plaintext) {
    // The same grpc-js the SDK runs on (a direct dependency at gax's version).
    const { credentials } = await import("@grpc/grpc-js");
    options.sslCreds = credentials.createInsecure();
  }
  const client = new KeyManagementServiceClient(options as ConstructorParameters<typeof KmsClient>[0]);
  /** gRPC without TLS carries no call credentials: the token travels as metadata of each call. */
  const callAuth =
    config.transport === "grpc" && plaintext
      ? async (): Promise<Record<string, string>> => {
          const token = await client.auth.getAccessToken();
          return token ? { authorization: `Bearer ${token}` } : {};
        }
      : async (): Promise<Record<string, string>> => ({});
  // Builds the call functions (synchronously; a failure to get credentials surfaces in the first call).
  client.initialize().catch(() => undefined);
  const retry = { maxRetries: config.maxRetries, baseDelayMs: config.retryBaseMs };
  let knownKey = config.kekStrategy === "shared" ? `${keyRingName}/cryptoKeys/${config.keyName}` : undefined;

  /** One gax call without gax's retries, cancelled when the signal aborts. */
  async function invoke<T>(
    method: "encrypt" | "decrypt" | "createCryptoKey" | "getCryptoKey" | "getKeyRing" | "listCryptoKeyVersions" | "updateCryptoKeyVersion",
    request: object,
    routing: [string, string],
    signal: AbortSignal | undefined,
    onLate?: (response: T) => void,
  ): Promise<T> {
    const fn = client.innerApiCalls[method];
    if (!fn) throw new ProviderError("misconfigured", slot, `the KMS client has no ${method} call`);
    const headers = { "x-goog-request-params": `${routing[0]}=${encodeURIComponent(routing[1])}`, ...(await callAuth()) };
    const call = fn(request, { retry: null, otherArgs: { headers } }) as GaxCall<T>;
    const first = call.then(([response]) => response);
    return raceSignal(first, signal, () => call.cancel?.(), onLate);
  }

  const validKekId = (kekId: string) => {
    if (typeof kekId !== "string" || !CRYPTO_KEY_NAME.test(kekId)) throw new ProviderError("misconfigured", slot, "unknown KEK reference");
  };
  const checkKekId = (kekId: string) => {
    validKekId(kekId);
    knownKey = kekId;
  };

  return {
    slot,
    backend: "gcp-kms",
    development: false,
    forgeableWraps: false,

    async createKek(vaultId: string, opts?: CallOptions): Promise<string> {
      if (config.kekStrategy === "shared") return knownKey!;
      // One fresh name per KEK, chosen before the retries: a key that already exists under it can only be this
      // call's own earlier attempt whose answer was lost, so it is this KEK.
      const cryptoKeyId = newKekKeyName(vaultId);
      const name = `${keyRingName}/cryptoKeys/${cryptoKeyId}`;
      const key = await callWithRetries(slot, "createCryptoKey", opts, retry, classifyGcpError("createCryptoKey"), async (signal) => {
        try {
          return await invoke<ICryptoKey>(
            "createCryptoKey",
            { parent: keyRingName, cryptoKeyId, cryptoKey: { purpose: "ENCRYPT_DECRYPT", labels: { "shardvault-vault": vaultId.toLowerCase().slice(0, 63) } } },
            ["parent", keyRingName],
            signal,
          );
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
          return invoke<ICryptoKey>("getCryptoKey", { name }, ["name", name], signal);
        }
      });
      const purpose = key.purpose as unknown;
      if (purpose !== undefined && purpose !== null && purpose !== "ENCRYPT_DECRYPT" && purpose !== 1) {
        throw new ProviderError("misconfigured", slot, `CryptoKey ${name} exists with purpose ${String(purpose)}, not ENCRYPT_DECRYPT`);
      }
      knownKey = key.name ?? name;
      return knownKey;
    },

    async wrap(kekId, plaintext, aad, opts) {
      checkKekId(kekId);
      const out = await callWithRetries(slot, "encrypt", opts, retry, classifyGcpError("encrypt"), (signal) =>
        invoke<IEncryptResponse>("encrypt", { name: kekId, plaintext, additionalAuthenticatedData: aad }, ["name", kekId], signal),
      );
      const ciphertext = bytesOf(out.ciphertext);
      if (!ciphertext || ciphertext.length === 0) throw new ProviderError("unavailable", slot, "encrypt answered without a ciphertext");
      return ciphertext;
    },

    async unwrap(kekId, wrapped, aad, opts) {
      checkKekId(kekId);
      const out = await callWithRetries(slot, "decrypt", opts, retry, classifyGcpError("decrypt"), (signal) =>
        invoke<IDecryptResponse>("decrypt", { name: kekId, ciphertext: wrapped, additionalAuthenticatedData: aad }, ["name", kekId], signal, (late) => {
          const bytes = late.plaintext;
          if (bytes instanceof Uint8Array) bytes.fill(0);
        }),
      );
      const plaintext = bytesOf(out.plaintext);
      if (!plaintext) throw new ProviderError("unavailable", slot, "decrypt answered without a plaintext");
      return plaintext;
    },

    async disableKek(kekId, opts) {
      // One shared key serves every vault: it is never disabled on behalf of one of them.
      if (config.kekStrategy === "shared") return;
      validKekId(kekId);
      // Every enabled version (decrypt uses whichever version made the ciphertext), not only the primary.
      const versions = await callWithRetries(slot, "listCryptoKeyVersions", opts, retry, classifyGcpError("listCryptoKeyVersions"), (signal) =>
        invoke<ICryptoKeyVersion[]>("listCryptoKeyVersions", { parent: kekId, filter: "state=ENABLED" }, ["parent", kekId], signal),
      );
      for (const version of versions) {
        if (!version.name) continue;
        await callWithRetries(slot, "updateCryptoKeyVersion", opts, retry, classifyGcpError("updateCryptoKeyVersion"), (signal) =>
          invoke<ICryptoKeyVersion>(
            "updateCryptoKeyVersion",
            { cryptoKeyVersion: { name: version.name, state: "DISABLED" }, updateMask: { paths: ["state"] } },
            ["crypto_key_version.name", version.name!],
            signal,
          ),
        );
      }
      if (knownKey === kekId) knownKey = undefined;
    },

    health(opts) {
      return probeHealth(slot, opts, classifyGcpError("health"), async (signal) => {
        if (knownKey === undefined) {
          await invoke<IKeyRing>("getKeyRing", { name: keyRingName }, ["name", keyRingName], signal);
          return undefined;
        }
        const key = await invoke<ICryptoKey>("getCryptoKey", { name: knownKey }, ["name", knownKey], signal);
        const state = key.primary?.state as unknown;
        return state === undefined || state === null || state === "ENABLED" || state === 1 ? undefined : `KEK primary version ${String(state)}`;
      });
    },

    async close() {
      await client.close().catch(() => undefined);
    },
  };
}

export const gcpKmsBackend: Backend<GcpKmsConfig> = {
  name: "gcp-kms",
  parse,
  // The project is the unit of administration (IAM, audit): two slots in one project are one party.
  trustDomain: (config) =>
    `gcp-kms:${config.endpoint ? `${config.endpoint.host}:${config.endpoint.port}` : "cloudkms.googleapis.com"}/projects/${config.project}`,
  sharedKek: (config) => config.kekStrategy === "shared",
  create: (slot, config, ctx) => createGcpKmsProvider(slot, config, ctx.env),
};
