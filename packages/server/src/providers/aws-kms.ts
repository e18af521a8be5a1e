/**
 * `{"backend": "aws-kms", "region": "…"}`: AWS KMS through the official `@aws-sdk/client-kms`.
 *
 * Per-vault KEKs (the default) are symmetric KMS keys made with CreateKey; the KeyId is the KEK id. Wrapping
 * is KMS Encrypt/Decrypt with the binding in the EncryptionContext, which KMS authenticates as associated
 * data: Decrypt under any other context fails with InvalidCiphertextException. The binding is opaque bytes
 * of any length, so the context carries its SHA-256 digest (KMS compares contexts for equality, and the
 * digest keeps the context far below KMS's size limit).
 *
 * The SDK's own retries are off (`maxAttempts: 1`): throttling, 5xx and dropped connections get our bounded,
 * jittered retries (`max_retries`, default 2), and every call takes the caller's AbortSignal.
 */
import { createHash } from "node:crypto";
import type { KMSClientConfig } from "@aws-sdk/client-kms";
import { ConfigError, fieldReader, type Backend, type BackendContext } from "./backend.js";
import {
  callWithRetries,
  checkUrlTransport,
  DEFAULT_RETRY_BASE_MS,
  networkCode,
  parseUrl,
  probeHealth,
  readKekStrategy,
  readMaxRetries,
  requireEnv,
  safeMessage,
  type Classified,
  type KekStrategy,
} from "./cloud-common.js";
import { ProviderError, type CallOptions, type KeyProvider } from "./provider.js";

export const AWS_BINDING_CONTEXT_KEY = "shardvault-binding";

export interface AwsKmsConfig {
  region: string;
  endpoint: string | undefined;
  /** Names of the variables holding static credentials; absent: the standard AWS credential chain. */
  accessKeyIdEnv: string | undefined;
  secretAccessKeyEnv: string | undefined;
  /** The access key id, resolved at parse time for the trust domain (an identifier, not a secret). */
  accessKeyId: string | undefined;
  kekStrategy: KekStrategy;
  /** The shared key (id, ARN or alias) with `kek_strategy: "shared"`. */
  keyId: string | undefined;
  maxRetries: number;
  retryBaseMs: number;
}

const FIELDS = ["region", "endpoint", "access_key_id_env", "secret_access_key_env", "kek_strategy", "key_id", "max_retries"];

function parse(slot: string, fields: Record<string, unknown>, ctx: BackendContext): AwsKmsConfig {
  const read = fieldReader(slot, "aws-kms", fields, FIELDS);
  const region = read.string("region");
  if (!/^[a-z0-9-]{1,40}$/.test(region)) throw new ConfigError(`providers.${slot}.region must be an AWS region name such as eu-west-1`);
  const endpoint = read.optionalString("endpoint");
  if (endpoint !== undefined) checkUrlTransport(slot, "endpoint", parseUrl(slot, "endpoint", endpoint));
  const accessKeyIdEnv = fields.access_key_id_env === undefined ? undefined : read.envVarName("access_key_id_env");
  const secretAccessKeyEnv = fields.secret_access_key_env === undefined ? undefined : read.envVarName("secret_access_key_env");
  if ((accessKeyIdEnv === undefined) !== (secretAccessKeyEnv === undefined)) {
    throw new ConfigError(`providers.${slot}: access_key_id_env and secret_access_key_env must be given together (or neither, for the AWS credential chain)`);
  }
  let accessKeyId: string | undefined;
  if (accessKeyIdEnv !== undefined && secretAccessKeyEnv !== undefined) {
    accessKeyId = requireEnv(slot, "access_key_id_env", accessKeyIdEnv, ctx.env);
    requireEnv(slot, "secret_access_key_env", secretAccessKeyEnv, ctx.env);
  }
  const { strategy, sharedKey } = readKekStrategy(slot, fields, read, "key_id");
  return {
    region,
    endpoint,
    accessKeyIdEnv,
    secretAccessKeyEnv,
    accessKeyId,
    kekStrategy: strategy,
    keyId: sharedKey,
    maxRetries: readMaxRetries(slot, fields),
    retryBaseMs: DEFAULT_RETRY_BASE_MS,
  };
}

const UNAVAILABLE_RETRYABLE = new Set([
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "KMSInternalException",
  "DependencyTimeoutException",
  "KeyUnavailableException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalFailure",
  "InternalError",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);
const THROTTLING = new Set(["ThrottlingException", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded"]);
const INTEGRITY = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);
const MISCONFIGURED = new Set([
  "DisabledException",
  "NotFoundException",
  "KMSInvalidStateException",
  "InvalidKeyUsageException",
  "InvalidArnException",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "CredentialsProviderError",
  "ValidationException",
  "InvalidGrantTokenException",
  "UnsupportedOperationException",
  "LimitExceededException",
]);

export function classifyAwsError(error: unknown): Classified {
  const net = networkCode(error);
  if (net) return { kind: "unavailable", retryable: true, notExecuted: net === "ECONNREFUSED", what: `connection failed (${net})` };
  const e = (error ?? {}) as { name?: unknown; message?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === "string" ? e.name : "Error";
  const status = e.$metadata?.httpStatusCode;
  const what = `${name}${status ? ` (HTTP ${status})` : ""}${e.message ? `: ${safeMessage(e.message)}` : ""}`;
  if (THROTTLING.has(name) || status === 429) return { kind: "unavailable", retryable: true, notExecuted: true, what };
  if (UNAVAILABLE_RETRYABLE.has(name)) return { kind: "unavailable", retryable: true, notExecuted: false, what };
  if (INTEGRITY.has(name)) return { kind: "integrity", retryable: false, notExecuted: false, what };
  if (MISCONFIGURED.has(name)) return { kind: "misconfigured", retryable: false, notExecuted: false, what };
  if ((status !== undefined && status >= 500) || e.$fault === "server") return { kind: "unavailable", retryable: true, notExecuted: false, what };
  return { kind: "misconfigured", retryable: false, notExecuted: false, what };
}

function bindingContext(aad: Uint8Array): Record<string, string> {
  return { [AWS_BINDING_CONTEXT_KEY]: createHash("sha256").update(aad).digest("base64") };
}

export async function createAwsKmsProvider(slot: string, config: AwsKmsConfig, env: NodeJS.ProcessEnv): Promise<KeyProvider> {
  // The SDK loads when a slot uses it, not with every server start.
  const { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, DisableKeyCommand, EncryptCommand, KMSClient, ListKeysCommand } = await import(
    "@aws-sdk/client-kms"
  );
  const clientConfig: KMSClientConfig = { region: config.region, maxAttempts: 1 };
  if (config.endpoint !== undefined) clientConfig.endpoint = config.endpoint;
  if (config.accessKeyIdEnv !== undefined && config.secretAccessKeyEnv !== undefined) {
    clientConfig.credentials = {
      accessKeyId: requireEnv(slot, "access_key_id_env", config.accessKeyIdEnv, env),
      secretAccessKey: requireEnv(slot, "secret_access_key_env", config.secretAccessKeyEnv, env),
    };
  }
  const client = new KMSClient(clientConfig);
  const retry = { maxRetries: config.maxRetries, baseDelayMs: config.retryBaseMs };
  /** The KEK health checks describe: the shared key, or the per-vault key used last. */
  let knownKey = config.kekStrategy === "shared" ? config.keyId : undefined;

  const checkKekId = (kekId: string) => {
    if (typeof kekId !== "string" || kekId.length === 0 || kekId.length > 2048) throw new ProviderError("misconfigured", slot, "unknown KEK reference");
    knownKey = kekId;
  };

  return {
    slot,
    backend: "aws-kms",
    development: false,
    forgeableWraps: false,

    async createKek(vaultId: string, opts?: CallOptions): Promise<string> {
      if (config.kekStrategy === "shared") return config.keyId!;
      const metadata = await callWithRetries(
        slot,
        "CreateKey",
        opts,
        // A retried CreateKey after an ambiguous failure could leave a second, orphaned key: retry only what KMS refused.
        { ...retry, onlyNotExecuted: true },
        classifyAwsError,
        async (abortSignal) => {
          const out = await client.send(
            new CreateKeyCommand({
              Description: `Shardvault KEK for vault ${vaultId}`,
              KeyUsage: "ENCRYPT_DECRYPT",
              KeySpec: "SYMMETRIC_DEFAULT",
              Tags: [{ TagKey: "shardvault:vault", TagValue: vaultId }],
            }),
            abortSignal ? { abortSignal } : {},
          );
          return out.KeyMetadata;
        },
      );
      if (!metadata?.KeyId) throw new ProviderError("unavailable", slot, "CreateKey answered without a KeyId");
      knownKey = metadata.KeyId;
      return metadata.KeyId;
    },

    async wrap(kekId, plaintext, aad, opts) {
      checkKekId(kekId);
      const out = await callWithRetries(slot, "Encrypt", opts, retry, classifyAwsError, (abortSignal) =>
        client.send(
          new EncryptCommand({ KeyId: kekId, Plaintext: plaintext, EncryptionContext: bindingContext(aad) }),
          abortSignal ? { abortSignal } : {},
        ),
      );
      if (!out.CiphertextBlob || out.CiphertextBlob.length === 0) throw new ProviderError("unavailable", slot, "Encrypt answered without a ciphertext");
      return out.CiphertextBlob;
    },

    async unwrap(kekId, wrapped, aad, opts) {
      checkKekId(kekId);
      const out = await callWithRetries(slot, "Decrypt", opts, retry, classifyAwsError, (abortSignal) =>
        client.send(
          // KeyId pins the key: a ciphertext made under another KMS key fails (IncorrectKeyException).
          new DecryptCommand({ KeyId: kekId, CiphertextBlob: wrapped, EncryptionContext: bindingContext(aad) }),
          abortSignal ? { abortSignal } : {},
        ),
      );
      if (!out.Plaintext) throw new ProviderError("unavailable", slot, "Decrypt answered without a plaintext");
      return out.Plaintext;
    },

    async disableKek(kekId, opts) {
      // One shared key serves every vault: it is never disabled on behalf of one of them.
      if (config.kekStrategy === "shared") return;
      if (typeof kekId !== "string" || kekId.length === 0 || kekId.length > 2048) throw new ProviderError("misconfigured", slot, "unknown KEK reference");
      await callWithRetries(slot, "DisableKey", opts, retry, classifyAwsError, (abortSignal) =>
        client.send(new DisableKeyCommand({ KeyId: kekId }), abortSignal ? { abortSignal } : {}),
      );
      if (knownKey === kekId) knownKey = undefined;
    },

    health(opts) {
      return probeHealth(slot, opts, classifyAwsError, async (abortSignal) => {
        const send = abortSignal ? { abortSignal } : {};
        if (knownKey === undefined) {
          await client.send(new ListKeysCommand({ Limit: 1 }), send);
          return undefined;
        }
        const out = await client.send(new DescribeKeyCommand({ KeyId: knownKey }), send);
        const state = out.KeyMetadata?.KeyState;
        return out.KeyMetadata?.Enabled === false || (state !== undefined && state !== "Enabled") ? `KEK state ${state ?? "disabled"}` : undefined;
      });
    },

    async close() {
      client.destroy();
    },
  };
}

export const awsKmsBackend: Backend<AwsKmsConfig> = {
  name: "aws-kms",
  parse,
  trustDomain: (config) => `aws-kms:${config.endpoint ?? config.region}:${config.accessKeyId ?? "default-chain"}`,
  sharedKek: (config) => config.kekStrategy === "shared",
  create: (slot, config, ctx) => createAwsKmsProvider(slot, config, ctx.env),
};
