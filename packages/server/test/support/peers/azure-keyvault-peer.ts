/**
 * A local Azure Key Vault (keys) for tests, speaking the service's REST wire protocol so the official
 * `@azure/keyvault-keys` clients talk to it unchanged over loopback:
 *
 *   POST /keys/{name}/create                 {"kty", "key_size", "key_ops"} → key bundle (JWK + attributes)
 *   GET  /keys/{name}[/{version}]            → key bundle (the public JWK: kid, kty, key_ops, n, e)
 *   PATCH /keys/{name}/{version}             {"attributes": {"enabled", "exp"}} → key bundle
 *   GET  /keys?maxresults=n                  → {"value": [key items], "nextLink": null}
 *   POST /keys/{name}/{version}/wrapkey      {"alg", "value": base64url} → {"kid", "value"}
 *   POST /keys/{name}/{version}/unwrapkey    {"alg", "value": base64url} → {"kid", "value"}
 *
 * Every request needs `?api-version=`. A request without a valid bearer token gets 401 with
 * `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>", resource="https://vault.azure.net"`,
 * as the service answers, so the SDK's challenge flow runs (`peer.unauthenticated` counts those requests).
 * Keys are real: RSA (RSA-OAEP-256 and RSA-OAEP with node:crypto) and oct-HSM AES-256 (A256KW, RFC 3394).
 * Errors are `{"error": {"code", "message"}}`.
 */
import { createCipheriv, createDecipheriv, generateKeyPair, privateDecrypt, publicEncrypt, randomBytes, constants, timingSafeEqual, type KeyObject, type KeyPairKeyObjectResult } from "node:crypto";
import type { ServerResponse } from "node:http";
import { promisify } from "node:util";
import { extendPeer, sendJson, startWirePeer, type PeerRequest, type WirePeer } from "./faults.js";

export interface AzureKeyVaultPeer extends WirePeer {
  /** The vault URL: `http://127.0.0.1:PORT`, or the public URL given for a TLS peer. */
  readonly vaultUrl: string;
  readonly tenantId: string;
  /** The bearer token the peer accepts. */
  readonly token: string;
  /** Requests that came without a valid token (and got the 401 challenge). */
  readonly unauthenticated: number;
  disableKey(name: string): void;
  /** Whether a KEK (`name/version`, as the backend's KEK ids are) is enabled. */
  kekEnabled(kekId: string): boolean;
  /** Every KEK the peer holds, as KEK ids (`name/version`). */
  kekIds(): string[];
  keyCount(): number;
  /** From now on, a read of key version `asked` (`name/version`) answers key version `answered` instead: a misrouted answer. */
  substituteKey(asked: string, answered: string): void;
}

interface KeyVersion {
  version: string;
  kty: "RSA" | "RSA-HSM" | "oct-HSM";
  keyOps: string[];
  enabled: boolean;
  /** Expiry, in seconds since the epoch, when one was set. */
  expires?: number;
  created: number;
  rsa?: { privateKey: KeyObject; publicKey: KeyObject; bytes: number };
  aes?: Buffer;
  tags: Record<string, string>;
}

class VaultError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const generateRsa = promisify(generateKeyPair);

/**
 * 2048-bit RSA key pairs (the size the deployments use) made ahead of the creates that take them, each given
 * out once. Making one costs up to a few hundred ms of CPU, which a loaded 2-core machine stretched past the 2 s
 * provider deadline of the fault suites (a healthy peer's create then read as a failure): a create takes a
 * ready pair and the next one is made in the background. Other sizes are made when asked for.
 */
const READY_BITS = 2048;
const READY_PAIRS = 3;
const readyPairs: Array<Promise<KeyPairKeyObjectResult>> = [];

function fillReadyPairs() {
  while (readyPairs.length < READY_PAIRS) {
    const pair = generateRsa("rsa", { modulusLength: READY_BITS });
    pair.catch(() => undefined); // a failure surfaces in the create that takes it
    readyPairs.push(pair);
  }
  return readyPairs;
}

function rsaPair(bits: number): Promise<KeyPairKeyObjectResult> {
  if (bits !== READY_BITS) return generateRsa("rsa", { modulusLength: bits });
  const pair = fillReadyPairs().shift()!;
  fillReadyPairs();
  return pair;
}

const AES_KW_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");
const KEY_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];

function base64url(value: unknown, field: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(value)) throw new VaultError(400, "BadParameter", `${field} must be base64url`);
  return Buffer.from(value, "base64url");
}

export interface AzureKeyVaultPeerOptions {
  tenantId?: string;
  token?: string;
  /** The resource the 401 challenge names (default `https://vault.azure.net`). */
  resource?: string;
  /**
   * HTTPS only, with this key and certificate, and the vault's public URL (as clients name it, e.g.
   * `https://shardvault.vault.test`, reached through a proxy), which key ids are given under.
   */
  tls?: { key: string; cert: string; vaultUrl: string };
}

export async function startAzureKeyVaultPeer(opts: AzureKeyVaultPeerOptions = {}): Promise<AzureKeyVaultPeer> {
  const tenantId = opts.tenantId ?? "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const token = opts.token ?? `eyJ0eXAiOiJKV1QifQ.test-${randomBytes(24).toString("base64url")}`;
  const resource = opts.resource ?? "https://vault.azure.net";
  await Promise.all(fillReadyPairs());
  const keys = new Map<string, KeyVersion[]>();
  const substituted = new Map<string, string>();
  let unauthenticated = 0;
  let base = "";

  const kid = (name: string, v: KeyVersion) => `${base}/keys/${name}/${v.version}`;
  const attributes = (v: KeyVersion) => ({
    enabled: v.enabled,
    ...(v.expires !== undefined ? { exp: v.expires } : {}),
    created: Math.floor(v.created / 1000),
    updated: Math.floor(v.created / 1000),
    recoveryLevel: "Recoverable+Purgeable",
    recoverableDays: 90,
    exportable: false,
  });
  function bundle(name: string, v: KeyVersion) {
    const jwk: Record<string, unknown> = { kid: kid(name, v), kty: v.kty, key_ops: v.keyOps };
    if (v.rsa) {
      const pub = v.rsa.publicKey.export({ format: "jwk" }) as { n: string; e: string };
      jwk.n = pub.n;
      jwk.e = pub.e;
    }
    return { key: jwk, attributes: attributes(v), tags: v.tags };
  }

  function authenticate(header: string | undefined): void {
    const presented = header?.startsWith("Bearer ") ? Buffer.from(header.slice(7)) : undefined;
    const expected = Buffer.from(token);
    if (!presented || presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      unauthenticated++;
      throw new VaultError(401, "Unauthorized", presented ? "AKV10032: Invalid issuer." : "AKV10000: Request is missing a Bearer or PoP token.");
    }
  }

  function findVersion(name: string, version: string | undefined): KeyVersion {
    const versions = keys.get(name);
    const found = version ? versions?.find((v) => v.version === version) : versions?.at(-1);
    if (!found) throw new VaultError(404, "KeyNotFound", `A key with (name/id) ${name}${version ? `/${version}` : ""} was not found in this key vault.`);
    return found;
  }

  function usable(name: string, v: KeyVersion, op: string): KeyVersion {
    if (!v.enabled) throw new VaultError(403, "Forbidden", `Operation ${op} is not allowed on a disabled key.`);
    if (!v.keyOps.includes(op)) throw new VaultError(403, "Forbidden", `Operation ${op} is not permitted on this key (${name}).`);
    return v;
  }

  async function create(name: string, body: Record<string, unknown>): Promise<unknown> {
    if (!/^[0-9A-Za-z-]{1,127}$/.test(name)) throw new VaultError(400, "BadParameter", "The request URI contains an invalid name.");
    const kty = body.kty;
    const keyOps = Array.isArray(body.key_ops) ? (body.key_ops as string[]) : KEY_OPS;
    if (keyOps.some((op) => !KEY_OPS.includes(op))) throw new VaultError(400, "BadParameter", "Invalid key_ops.");
    const v: KeyVersion = {
      version: randomBytes(16).toString("hex"),
      kty: kty as KeyVersion["kty"],
      keyOps,
      enabled: (body.attributes as { enabled?: boolean } | undefined)?.enabled !== false,
      created: Date.now(),
      tags: typeof body.tags === "object" && body.tags !== null ? (body.tags as Record<string, string>) : {},
    };
    if (kty === "RSA" || kty === "RSA-HSM") {
      const bits = body.key_size === undefined ? 2048 : body.key_size;
      if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new VaultError(400, "BadParameter", "Invalid key_size for RSA.");
      const pair = await rsaPair(bits);
      v.rsa = { privateKey: pair.privateKey, publicKey: pair.publicKey, bytes: bits / 8 };
    } else if (kty === "oct-HSM" || kty === "oct") {
      const bits = body.key_size === undefined ? 256 : body.key_size;
      if (bits !== 256) throw new VaultError(400, "BadParameter", "This peer supports 256-bit oct keys only.");
      v.aes = randomBytes(32);
    } else {
      throw new VaultError(400, "BadParameter", `Unsupported kty ${String(kty)}.`);
    }
    keys.set(name, [...(keys.get(name) ?? []), v]);
    return bundle(name, v);
  }

  function wrap(name: string, v: KeyVersion, alg: unknown, input: Buffer): Buffer {
    if (v.rsa && (alg === "RSA-OAEP-256" || alg === "RSA-OAEP")) {
      const hash = alg === "RSA-OAEP-256" ? "sha256" : "sha1";
      const hashBytes = hash === "sha256" ? 32 : 20;
      if (input.length > v.rsa.bytes - 2 * hashBytes - 2) throw new VaultError(400, "BadParameter", "The value is too long for this key and algorithm.");
      return publicEncrypt({ key: v.rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, input);
    }
    if (v.aes && alg === "A256KW") {
      if (input.length < 16 || input.length % 8 !== 0) throw new VaultError(400, "BadParameter", "A256KW needs a multiple of 8 bytes, at least 16.");
      const cipher = createCipheriv("id-aes256-wrap", v.aes, AES_KW_IV);
      return Buffer.concat([cipher.update(input), cipher.final()]);
    }
    throw new VaultError(400, "BadParameter", `Algorithm ${String(alg)} is not supported for key ${name}.`);
  }

  function unwrap(name: string, v: KeyVersion, alg: unknown, input: Buffer): Buffer {
    const failed = () => new VaultError(400, "BadParameter", "Unwrap failed: the ciphertext is invalid for this key.");
    if (v.rsa && (alg === "RSA-OAEP-256" || alg === "RSA-OAEP")) {
      if (input.length !== v.rsa.bytes) throw failed();
      try {
        return privateDecrypt({ key: v.rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === "RSA-OAEP-256" ? "sha256" : "sha1" }, input);
      } catch {
        throw failed();
      }
    }
    if (v.aes && alg === "A256KW") {
      if (input.length < 24 || input.length % 8 !== 0) throw failed();
      try {
        const decipher = createDecipheriv("id-aes256-wrap", v.aes, AES_KW_IV);
        return Buffer.concat([decipher.update(input), decipher.final()]);
      } catch {
        throw failed();
      }
    }
    throw new VaultError(400, "BadParameter", `Algorithm ${String(alg)} is not supported for key ${name}.`);
  }

  function route(method: string, path: string): { operation: string; name?: string; version?: string } {
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "keys") return { operation: "unknown" };
    if (parts.length === 1 && method === "GET") return { operation: "ListKeys" };
    const [, name, third, fourth] = parts;
    if (method === "POST" && third === "create" && parts.length === 3) return { operation: "CreateKey", name: name! };
    if (method === "GET" && parts.length <= 3) return { operation: "GetKey", name: name!, ...(third ? { version: third } : {}) };
    if (method === "PATCH" && parts.length === 3) return { operation: "UpdateKey", name: name!, version: third! };
    if (method === "POST" && fourth === "wrapkey" && parts.length === 4) return { operation: "WrapKey", name: name!, version: third! };
    if (method === "POST" && fourth === "unwrapkey" && parts.length === 4) return { operation: "UnwrapKey", name: name!, version: third! };
    return { operation: "unknown" };
  }

  const respondError = (res: ServerResponse, error: VaultError) => {
    const headers: Record<string, string> = {};
    if (error.status === 401) {
      headers["www-authenticate"] = `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${resource}"`;
    }
    sendJson(res, error.status, { error: { code: error.code, message: error.message } }, headers);
  };

  const peer = await startWirePeer(
    {
      operation: (req, url) => route(req.method ?? "GET", url.pathname).operation,
      throttled: (res) => {
        res.setHeader("retry-after", "1");
        respondError(res, new VaultError(429, "Throttled", "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached"));
      },
      serverError: (res) => respondError(res, new VaultError(503, "ServiceUnavailable", "The service is temporarily unavailable.")),
      async handle({ req, res, url, body }: PeerRequest) {
        try {
          authenticate(req.headers.authorization);
          if (!url.searchParams.get("api-version")) throw new VaultError(400, "BadParameter", "The api-version query parameter is required.");
          const { operation, name, version } = route(req.method ?? "GET", url.pathname);
          let input: Record<string, unknown> = {};
          if (req.method === "POST" || req.method === "PATCH") {
            try {
              input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
            } catch {
              throw new VaultError(400, "BadParameter", "The request body is not JSON.");
            }
          }
          switch (operation) {
            case "CreateKey":
              return sendJson(res, 200, await create(name!, input));
            case "GetKey": {
              const [shownName, shownVersion] = (substituted.get(`${name}/${version}`) ?? `${name}/${version ?? ""}`).split("/");
              return sendJson(res, 200, bundle(shownName!, findVersion(shownName!, shownVersion || undefined)));
            }
            case "UpdateKey": {
              const v = findVersion(name!, version);
              const { enabled, exp } = (input.attributes as { enabled?: unknown; exp?: unknown } | undefined) ?? {};
              if (typeof enabled === "boolean") v.enabled = enabled;
              if (typeof exp === "number") v.expires = exp;
              return sendJson(res, 200, bundle(name!, v));
            }
            case "ListKeys": {
              const max = Number(url.searchParams.get("maxresults") ?? 25);
              const value = [...keys.entries()].slice(0, max).map(([n, versions]) => ({
                kid: `${base}/keys/${n}`,
                attributes: attributes(versions.at(-1)!),
                tags: versions.at(-1)!.tags,
              }));
              return sendJson(res, 200, { value, nextLink: null });
            }
            case "WrapKey":
            case "UnwrapKey": {
              const op = operation === "WrapKey" ? "wrapKey" : "unwrapKey";
              const v = usable(name!, findVersion(name!, version), op);
              const given = base64url(input.value, "value");
              const out = op === "wrapKey" ? wrap(name!, v, input.alg, given) : unwrap(name!, v, input.alg, given);
              given.fill(0);
              const answer = { kid: kid(name!, v), value: out.toString("base64url") };
              out.fill(0);
              return sendJson(res, 200, answer);
            }
            default:
              throw new VaultError(404, "NotFound", "The requested resource was not found.");
          }
        } catch (error) {
          if (error instanceof VaultError) return respondError(res, error);
          throw error;
        }
      },
    },
    opts.tls ? { tls: opts.tls } : {},
  );
  base = opts.tls?.vaultUrl ?? peer.url;

  return extendPeer(peer, {
    vaultUrl: base,
    tenantId,
    token,
    get unauthenticated() {
      return unauthenticated;
    },
    disableKey(name: string) {
      const versions = keys.get(name);
      if (!versions) throw new Error(`no key ${name}`);
      for (const v of versions) v.enabled = false;
    },
    kekEnabled(kekId: string) {
      const [name, version] = kekId.split("/");
      const found = keys.get(name!)?.find((v) => v.version === version);
      if (!found) throw new Error(`no key ${kekId}`);
      return found.enabled;
    },
    kekIds: () => [...keys].flatMap(([name, versions]) => versions.map((v) => `${name}/${v.version}`)),
    keyCount: () => keys.size,
    substituteKey: (asked: string, answered: string) => void substituted.set(asked, answered),
  });
}

/** The `providers.<slot>` fields (and the environment they name) of an `azure-keyvault` slot on this peer. */
export function azureKeyVaultSlotConfig(
  peer: AzureKeyVaultPeer,
  extra: Record<string, unknown> = {},
): { fields: Record<string, unknown>; env: Record<string, string> } {
  return {
    fields: { vault_url: peer.vaultUrl, access_token_env: "SV_PEER_AZURE_TOKEN", ...extra },
    env: { SV_PEER_AZURE_TOKEN: peer.token },
  };
}
