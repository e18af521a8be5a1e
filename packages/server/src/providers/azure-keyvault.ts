/**
 * `{"backend": "azure-keyvault", "vault_url": "https://….vault.azure.net"}`: Azure Key Vault (or Managed HSM)
 * through the official `@azure/keyvault-keys` KeyClient and CryptographyClient.
 *
 * Per-vault KEKs (the default) are keys made with createKey, one key per KEK, named after the vault with a
 * random suffix (a vault's next KEK is never a new version of its former one): RSA (3072-bit unless
 * `key_size` says otherwise) wrapping with RSA-OAEP-256, or, with `key_type: "oct-HSM"` (Managed HSM), AES-256
 * keys wrapping with A256KW. The KEK id is `name/version`, resolved against the configured vault URL.
 *
 * Neither algorithm takes associated data, so the binding travels inside the wrapped bytes: what is wrapped
 * is `sha256(binding) || plaintext` (for A256KW padded to a multiple of 8 bytes, ISO/IEC 7816-4 style), and
 * unwrap checks the digest in constant time before returning anything.
 *
 * RSA wraps are made here with the key version's public key (azure-public-keys.ts), so they cost no round trip;
 * unwraps, and A256KW wraps, go to the vault.
 *
 * A256KW authenticates: only the key's holder can make a wrap that unwraps. RSA-OAEP does not: anyone with the
 * public key can wrap `sha256(binding) || anything`, so an RSA slot's wraps are `forgeableWraps`. The server
 * therefore refuses an RSA slot as the default provider (a plain vault's only KEK, and the signing key's) and
 * any MPC quorum made of RSA slots alone; one RSA share among authenticated ones stays checked by the DEK
 * commitment, which a forger who does not know the other shares cannot match.
 *
 * Credentials: `tenant_id` + `client_id_env` + `client_secret_env` (a service principal, @azure/identity
 * ClientSecretCredential); `access_token_env` (a static bearer token, e.g. for a local peer); or neither:
 * DefaultAzureCredential (managed identity, workload identity, environment, Azure CLI). The SDK's challenge
 * flow stays on: the first request goes without a token, the vault's 401 names the tenant and resource.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { CryptographyClient, KeyClient, KeyClientOptions } from "@azure/keyvault-keys";
import { wipe } from "@shardvault/crypto";
import { ConfigError, fieldReader, type Backend, type BackendContext } from "./backend.js";
import {
  BoundedCache,
  callWithRetries,
  checkUrlTransport,
  DEFAULT_RETRY_BASE_MS,
  networkCode,
  newKekKeyName,
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
import { rsaPublicKeys } from "./azure-public-keys.js";

export type AzureKeyType = "RSA" | "oct-HSM";

export interface AzureKeyVaultConfig {
  /** The vault's URL without a trailing slash. */
  vaultUrl: string;
  /** http:// on loopback: a local peer (insecure transport allowed, challenge resource not verified). */
  localPeer: boolean;
  tenantId: string | undefined;
  clientIdEnv: string | undefined;
  clientSecretEnv: string | undefined;
  accessTokenEnv: string | undefined;
  keyType: AzureKeyType;
  /** RSA modulus bits (2048, 3072, 4096); 256 for oct-HSM. */
  keySize: number;
  kekStrategy: KekStrategy;
  /** The shared key's name, with `kek_strategy: "shared"`. */
  keyName: string | undefined;
  maxRetries: number;
  retryBaseMs: number;
}

const FIELDS = [
  "vault_url",
  "tenant_id",
  "client_id_env",
  "client_secret_env",
  "access_token_env",
  "key_type",
  "key_size",
  "kek_strategy",
  "key_name",
  "max_retries",
];
const KEY_NAME = /^[0-9A-Za-z-]{1,127}$/;
const KEK_ID = /^([0-9A-Za-z-]{1,127})\/([0-9A-Za-z]{1,64})$/;
const RSA_KEY_SIZES = [2048, 3072, 4096];
/** RSA-OAEP-256 with a 2048-bit key carries at most 190 bytes, 158 once the 32-byte digest is in: too few for
 * the provider contract (inputs up to a few hundred bytes), so 3072 bits (286 bytes of input) is the default. */
const DEFAULT_RSA_KEY_SIZE = 3072;
const DIGEST_LENGTH = 32;
/** RSA-OAEP wraps can be made by anyone holding the public key; A256KW wraps only by the key's holder. */
const forgeable = (config: AzureKeyVaultConfig) => config.keyType === "RSA";

type TokenCredential = ConstructorParameters<typeof KeyClient>[1];

function parse(slot: string, fields: Record<string, unknown>, ctx: BackendContext): AzureKeyVaultConfig {
  const read = fieldReader(slot, "azure-keyvault", fields, FIELDS);
  const url = parseUrl(slot, "vault_url", read.string("vault_url"));
  checkUrlTransport(slot, "vault_url", url);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`providers.${slot}.vault_url must be the vault's URL alone, such as https://my-vault.vault.azure.net`);
  }
  const tenantId = read.optionalString("tenant_id");
  if (tenantId !== undefined && !/^[0-9A-Za-z.-]{1,128}$/.test(tenantId)) throw new ConfigError(`providers.${slot}.tenant_id must be a tenant id or domain`);
  const clientIdEnv = fields.client_id_env === undefined ? undefined : read.envVarName("client_id_env");
  const clientSecretEnv = fields.client_secret_env === undefined ? undefined : read.envVarName("client_secret_env");
  const accessTokenEnv = fields.access_token_env === undefined ? undefined : read.envVarName("access_token_env");
  const principal = [tenantId, clientIdEnv, clientSecretEnv].filter((v) => v !== undefined).length;
  if (principal !== 0 && principal !== 3) {
    throw new ConfigError(`providers.${slot}: tenant_id, client_id_env and client_secret_env must be given together`);
  }
  if (principal === 3 && accessTokenEnv !== undefined) {
    throw new ConfigError(`providers.${slot}: give a service principal (tenant_id, client_id_env, client_secret_env) or access_token_env, not both`);
  }
  if (principal === 3) {
    requireEnv(slot, "client_id_env", clientIdEnv!, ctx.env);
    requireEnv(slot, "client_secret_env", clientSecretEnv!, ctx.env);
  }
  if (accessTokenEnv !== undefined) requireEnv(slot, "access_token_env", accessTokenEnv, ctx.env);
  const keyType = read.optionalEnum("key_type", ["RSA", "oct-HSM"] as const) ?? "RSA";
  let keySize = keyType === "RSA" ? DEFAULT_RSA_KEY_SIZE : 256;
  if (fields.key_size !== undefined) {
    if (keyType !== "RSA") throw new ConfigError(`providers.${slot}.key_size applies to RSA keys only (oct-HSM keys are AES-256)`);
    if (!RSA_KEY_SIZES.includes(fields.key_size as number)) throw new ConfigError(`providers.${slot}.key_size must be one of ${RSA_KEY_SIZES.join(", ")}`);
    keySize = fields.key_size as number;
  }
  const { strategy, sharedKey } = readKekStrategy(slot, fields, read, "key_name");
  if (sharedKey !== undefined && !KEY_NAME.test(sharedKey)) throw new ConfigError(`providers.${slot}.key_name must be a key name (letters, digits, -)`);
  return {
    vaultUrl: url.origin,
    localPeer: url.protocol === "http:",
    tenantId,
    clientIdEnv,
    clientSecretEnv,
    accessTokenEnv,
    keyType,
    keySize,
    kekStrategy: strategy,
    keyName: sharedKey,
    maxRetries: readMaxRetries(slot, fields),
    retryBaseMs: DEFAULT_RETRY_BASE_MS,
  };
}

const CREDENTIAL_ERRORS = new Set(["CredentialUnavailableError", "AuthenticationError", "AuthenticationRequiredError", "AggregateAuthenticationError"]);

export function classifyAzureError(operation: string) {
  return (error: unknown): Classified => {
    const net = networkCode(error);
    if (net) return { kind: "unavailable", retryable: true, notExecuted: net === "ECONNREFUSED", what: `connection failed (${net})` };
    const e = (error ?? {}) as { name?: unknown; statusCode?: unknown; code?: unknown; message?: unknown };
    const status = typeof e.statusCode === "number" ? e.statusCode : undefined;
    const name = typeof e.name === "string" ? e.name : "Error";
    const what = `${name}${status !== undefined ? ` (HTTP ${status}${typeof e.code === "string" ? ` ${e.code}` : ""})` : ""}${
      e.message ? `: ${safeMessage(e.message)}` : ""
    }`;
    const result = (kind: Classified["kind"], retryable = false, notExecuted = false): Classified => ({ kind, retryable, notExecuted, what });
    if (status === 429) return result("unavailable", true, true);
    if (status !== undefined && (status >= 500 || status === 408)) return result("unavailable", true);
    // A wrapped key that does not unwrap under this key (altered, or made under another key) is a 400.
    if (status === 400 && operation === "unwrapKey") return result("integrity");
    if (CREDENTIAL_ERRORS.has(name)) return result("misconfigured");
    // 401/403 (credentials, permissions, disabled key), 404 (no such key), other 4xx, the SDK refusing an
    // expired key or a key without the operation: the configuration needs attention.
    return result("misconfigured");
  };
}

/** `sha256(binding) || plaintext`, padded (0x80 then zeros) to a multiple of 8 bytes for AES key wrap. */
function frame(aad: Uint8Array, plaintext: Uint8Array, padded: boolean): Buffer {
  const digest = createHash("sha256").update(aad).digest();
  if (!padded) return Buffer.concat([digest, plaintext]);
  const zeros = (8 - ((DIGEST_LENGTH + plaintext.length + 1) % 8)) % 8;
  return Buffer.concat([digest, plaintext, Buffer.from([0x80]), Buffer.alloc(zeros)]);
}

/** Checks the digest in constant time and returns a copy of the plaintext; the frame is the caller's to wipe. */
function unframe(slot: string, framed: Uint8Array, aad: Uint8Array, padded: boolean): Uint8Array {
  const refuse = () => new ProviderError("integrity", slot, "the unwrapped key is not bound to this context");
  if (framed.length < DIGEST_LENGTH) throw refuse();
  const expected = createHash("sha256").update(aad).digest();
  if (!timingSafeEqual(Buffer.from(framed.buffer, framed.byteOffset, DIGEST_LENGTH), expected)) throw refuse();
  let end = framed.length;
  if (padded) {
    let zeros = 0;
    while (end > DIGEST_LENGTH && framed[end - 1] === 0 && zeros < 8) {
      end--;
      zeros++;
    }
    if (end === DIGEST_LENGTH || framed[end - 1] !== 0x80) throw refuse();
    end--;
  }
  return Uint8Array.prototype.slice.call(framed, DIGEST_LENGTH, end);
}

async function credentialFor(slot: string, config: AzureKeyVaultConfig, env: NodeJS.ProcessEnv): Promise<TokenCredential> {
  if (config.accessTokenEnv !== undefined) {
    const token = requireEnv(slot, "access_token_env", config.accessTokenEnv, env);
    // A static token: valid for as long as its issuer said; the SDK asks again before each expiry it is told of.
    return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  }
  // @azure/identity (MSAL) loads only when a production credential is configured.
  const identity = await import("@azure/identity");
  if (config.tenantId !== undefined) {
    return new identity.ClientSecretCredential(
      config.tenantId,
      requireEnv(slot, "client_id_env", config.clientIdEnv!, env),
      requireEnv(slot, "client_secret_env", config.clientSecretEnv!, env),
    );
  }
  return new identity.DefaultAzureCredential();
}

export async function createAzureKeyVaultProvider(
  slot: string,
  config: AzureKeyVaultConfig,
  env: NodeJS.ProcessEnv,
  opts: { now?: () => number } = {},
): Promise<KeyProvider> {
  const credential = await credentialFor(slot, config, env);
  // The SDK loads when a slot uses it, not with every server start.
  const { KeyClient } = await import("@azure/keyvault-keys");
  const options: KeyClientOptions = { retryOptions: { maxRetries: 0 } };
  if (config.localPeer) {
    // Only for a local peer on loopback over plain http (parse refuses http elsewhere).
    options.allowInsecureConnection = true;
    options.disableChallengeResourceVerification = true;
  }
  const keys = new KeyClient(config.vaultUrl, credential, options);
  // Cryptography clients share the KeyClient's pipeline (one challenge, one token cache); each fetches its
  // key once, on first use.
  const cryptoClients = new BoundedCache<CryptographyClient>(512);
  const padded = config.keyType === "oct-HSM";
  const algorithm = padded ? "A256KW" : "RSA-OAEP-256";
  const retry = { maxRetries: config.maxRetries, baseDelayMs: config.retryBaseMs };
  // RSA keys: wraps are made here with each key version's public key; A256KW wraps need the key itself.
  const rsaKeys = padded ? undefined : rsaPublicKeys(slot, config.vaultUrl, opts.now);
  let knownKey: { name: string; version: string } | undefined;

  function parseKekId(kekId: string): { name: string; version: string } {
    const match = typeof kekId === "string" ? KEK_ID.exec(kekId) : null;
    if (!match) throw new ProviderError("misconfigured", slot, "unknown KEK reference");
    return { name: match[1]!, version: match[2]! };
  }

  /** The KEK a call uses, remembered as the one health checks. */
  function using(kekId: string): { name: string; version: string } {
    return (knownKey = parseKekId(kekId));
  }

  function cryptoFor(kekId: string): CryptographyClient {
    const { name, version } = using(kekId);
    let client = cryptoClients.get(kekId);
    if (!client) {
      client = keys.getCryptographyClient(name, { keyVersion: version });
      cryptoClients.set(kekId, client);
    }
    return client;
  }

  return {
    slot,
    backend: "azure-keyvault",
    development: false,
    forgeableWraps: forgeable(config),

    async createKek(vaultId: string, opts?: CallOptions): Promise<string> {
      if (config.kekStrategy === "shared") {
        // The shared key's current version, pinned: wrapped keys stay readable after the key is rotated.
        const key = await callWithRetries(slot, "getKey", opts, retry, classifyAzureError("getKey"), (abortSignal) =>
          keys.getKey(config.keyName!, abortSignal ? { abortSignal } : {}),
        );
        if (!key.properties.version) throw new ProviderError("misconfigured", slot, `key ${config.keyName} has no version`);
        knownKey = { name: config.keyName!, version: key.properties.version };
        const kekId = `${config.keyName}/${key.properties.version}`;
        rsaKeys?.remember(kekId, key);
        return kekId;
      }
      const name = newKekKeyName(vaultId);
      const key = await callWithRetries(
        slot,
        "createKey",
        opts,
        // createKey after an ambiguous failure would add a version (billed for HSM keys): retry only refusals.
        { ...retry, onlyNotExecuted: true },
        classifyAzureError("createKey"),
        (abortSignal) =>
          keys.createKey(name, config.keyType, {
            keySize: config.keySize,
            keyOps: ["wrapKey", "unwrapKey"],
            tags: { "shardvault-vault": vaultId.slice(0, 256) },
            ...(abortSignal ? { abortSignal } : {}),
          }),
      );
      const version = key.properties.version;
      if (!version) throw new ProviderError("unavailable", slot, "createKey answered without a key version");
      knownKey = { name, version };
      rsaKeys?.remember(`${name}/${version}`, key);
      return `${name}/${version}`;
    },

    async wrap(kekId, plaintext, aad, opts) {
      if (rsaKeys) {
        const { name, version } = using(kekId);
        const framed = frame(aad, plaintext, padded);
        try {
          return await rsaKeys.wrap(kekId, framed, () =>
            callWithRetries(slot, "getKey", opts, retry, classifyAzureError("getKey"), (abortSignal) => keys.getKey(name, { version, ...(abortSignal ? { abortSignal } : {}) })),
          );
        } finally {
          wipe(framed);
        }
      }
      const crypto = cryptoFor(kekId);
      const framed = frame(aad, plaintext, padded);
      try {
        const out = await callWithRetries(slot, "wrapKey", opts, retry, classifyAzureError("wrapKey"), (abortSignal) =>
          crypto.wrapKey(algorithm, framed, abortSignal ? { abortSignal } : {}),
        );
        if (!out.result || out.result.length === 0) throw new ProviderError("unavailable", slot, "wrapKey answered without a result");
        return out.result;
      } finally {
        wipe(framed);
      }
    },

    async unwrap(kekId, wrapped, aad, opts) {
      const crypto = cryptoFor(kekId);
      const out = await callWithRetries(slot, "unwrapKey", opts, retry, classifyAzureError("unwrapKey"), (abortSignal) =>
        crypto.unwrapKey(algorithm, wrapped, abortSignal ? { abortSignal } : {}),
      );
      const framed = out.result;
      try {
        // The digest binds the share to its context only as far as the wrapping does (see forgeableWraps).
        return unframe(slot, framed, aad, padded);
      } finally {
        wipe(framed);
      }
    },

    async disableKek(kekId, opts) {
      // One shared key serves every vault: it is never disabled on behalf of one of them.
      if (config.kekStrategy === "shared") return;
      const { name, version } = parseKekId(kekId);
      rsaKeys?.forget(kekId);
      await callWithRetries(slot, "updateKeyProperties", opts, retry, classifyAzureError("updateKeyProperties"), (abortSignal) =>
        keys.updateKeyProperties(name, version, { enabled: false, ...(abortSignal ? { abortSignal } : {}) }),
      );
      if (knownKey?.name === name && knownKey.version === version) knownKey = undefined;
    },

    health(opts) {
      return probeHealth(slot, opts, classifyAzureError("health"), async (abortSignal) => {
        const signal = abortSignal ? { abortSignal } : {};
        const known = knownKey ?? (config.kekStrategy === "shared" ? { name: config.keyName!, version: "" } : undefined);
        if (known === undefined) {
          await keys.listPropertiesOfKeys(signal).byPage({ maxPageSize: 1 }).next();
          return undefined;
        }
        const key = await keys.getKey(known.name, { ...signal, ...(known.version ? { version: known.version } : {}) });
        return key.properties.enabled === false ? `KEK ${known.name} is disabled` : undefined;
      });
    },

    async close() {
      cryptoClients.clear();
      rsaKeys?.clear();
    },
  };
}

export const azureKeyVaultBackend: Backend<AzureKeyVaultConfig> = {
  name: "azure-keyvault",
  parse,
  trustDomain: (config) => `azure-keyvault:${config.vaultUrl}`,
  sharedKek: (config) => config.kekStrategy === "shared",
  forgeableWraps: forgeable,
  create: (slot, config, ctx) => createAzureKeyVaultProvider(slot, config, ctx.env),
};
