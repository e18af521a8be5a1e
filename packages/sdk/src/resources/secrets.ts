/** `client.secrets`: the MPC guide's `put` and `get`, and 1claw's names with their meanings. */
import type { RotateSecretBody, SealedSecret, SealTarget, Secret, SecretList, SecretRefreshed, SecretVersionList, SecretWritten, WriteSecretBody } from "../api-types.js";
import { clientValidationFailure, withClientCrypto } from "../errors.js";
import { encodeSecretPath, idProblem, secretPathProblem, versionProblem } from "../paths.js";
import { cmekDecrypt, cmekEncrypt } from "../cmek.js";
import { readClientSide, writeClientSide, type SecretRef } from "../reconstruction.js";
import type { Query, Transport } from "../transport.js";
import type { ReadOptions, Reconstruct, ShardvaultResponse, WriteOptions } from "../types.js";

/** A page of `list`: at most `limit` paths, after the page that answered `cursor` (its `next_cursor`). */
export interface ListPage {
  limit?: number;
  cursor?: string;
}

/** Everything of a write but the value (1claw's `set` options). */
export type SetSecretOptions = Omit<WriteSecretBody, "value" | "sealed">;

type Route = "secrets" | "secret-versions" | "secret-version" | "secret-version-disable" | "secret-rotate" | "secret-refresh" | "secret-seal";

/** The request path, or the refusal when the vault id or secret path is not valid. */
function secretUrl(vaultId: string, route: Route, path: string, version?: number): { url: string } | { refused: ShardvaultResponse<never> } {
  const checks: Array<[code: string, problem: string | undefined]> = [
    ["invalid_id", idProblem("vaultId", vaultId)],
    ["invalid_path", secretPathProblem(path)],
    ["invalid_version", version === undefined ? undefined : versionProblem(version)],
  ];
  const refused = checks.find(([, problem]) => problem !== undefined);
  if (refused) return { refused: clientValidationFailure(refused[0], refused[1]!) };
  const tail = version === undefined ? "" : `/${version}`;
  return { url: `/v1/vaults/${encodeURIComponent(vaultId)}/${route}/${encodeSecretPath(path)}${tail}` };
}

function readHeaders(options: ReadOptions | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...options?.headers };
  if (options?.clientShare !== undefined) headers["X-Client-Share"] = options.clientShare;
  return headers;
}

/** Only the fields that are set: undefined optional fields are simply absent from bodies. */
function defined<T extends object>(body: T | null | undefined): T {
  return Object.fromEntries(Object.entries(body ?? {}).filter(([, value]) => value !== undefined)) as T;
}

/** Why `reconstruct` is not a reconstruction the SDK knows, or undefined. */
function reconstructProblem(reconstruct: unknown): string | undefined {
  const known: Array<Reconstruct | undefined> = [undefined, "client", "server"];
  return known.includes(reconstruct as Reconstruct) ? undefined : 'reconstruct must be "client" or "server"';
}

/**
 * With a CMEK key, a read that answers `cmek_encrypted` is decrypted here, on the client; a value that does
 * not decrypt (e.g. the vault's key was rotated since) is a `cmek_error`, not an exception.
 */
async function decrypted(pending: Promise<ShardvaultResponse<Secret>>, cmekKey: Uint8Array | undefined): Promise<ShardvaultResponse<Secret>> {
  const answer = await pending;
  if (!cmekKey || !answer.data?.cmek_encrypted) return answer;
  const data = answer.data;
  return withClientCrypto(answer.meta.status, async () => ({ ...answer, data: { ...data, value: await cmekDecrypt(data.value, cmekKey) } }));
}

export class SecretsResource {
  constructor(
    private readonly http: Transport,
    private readonly cmekKey?: Uint8Array,
  ) {}


  /**
   * `PUT /v1/vaults/{id}/secrets/{path}`: writes the next version. In a client-custody MPC vault the
   * answer carries `client_share`, returned this once: store it, every read needs it. With
   * `{ reconstruct: "client" }` the value is sealed here (see `Reconstruct`) and never sent; the answer carries
   * the client share made here. Or `sealed` instead of `value`: a version the caller sealed itself for a seal
   * target (`sealTarget`, then `sealForServer` of `@shardvault/crypto/client`), sent as it is; the answer has no
   * `client_share`, the caller made it.
   */
  async put(vaultId: string, path: string, body: WriteSecretBody, options?: WriteOptions): Promise<ShardvaultResponse<SecretWritten>> {
    const target = secretUrl(vaultId, "secrets", path);
    if ("refused" in target) return target.refused;
    const sealed = typeof body?.sealed === "object" && body.sealed !== null;
    if (sealed === (typeof body?.value === "string")) {
      return clientValidationFailure("invalid_value", "a write needs the value as a string, or (client-side sealing) the sealed version: exactly one of the two");
    }
    if (sealed) return this.http.request({ method: "PUT", path: target.url, body: defined(body) });
    const problem = reconstructProblem(options?.reconstruct);
    if (problem) return clientValidationFailure("invalid_reconstruct", problem);
    const { value, ...fields } = defined(body) as WriteSecretBody & { value: string };
    const send = (sent: string): Promise<ShardvaultResponse<SecretWritten>> =>
      options?.reconstruct === "client"
        ? writeClientSide(this, { vaultId, path }, fields, sent)
        : this.http.request({ method: "PUT", path: target.url, body: { ...fields, value: sent } });
    const key = this.cmekKey;
    if (!key) return send(value);
    return withClientCrypto(0, async () => send(await cmekEncrypt(value, key)));
  }

  /** 1claw's name: `put` with the value as its own argument; `reconstruct` as for `put`, the rest is the body. */
  set(vaultId: string, path: string, value: string, options: SetSecretOptions & WriteOptions = {}): Promise<ShardvaultResponse<SecretWritten>> {
    const { reconstruct, ...fields } = options ?? {};
    return this.put(vaultId, path, { ...fields, value }, { reconstruct });
  }

  /** A new version with `newValue` (1claw's `rotate`). */
  rotate(vaultId: string, path: string, newValue: string, options: SetSecretOptions & WriteOptions = {}): Promise<ShardvaultResponse<SecretWritten>> {
    return this.set(vaultId, path, newValue, options);
  }

  /** `POST …/secret-rotate/{path}`: a new version whose value the server generates; the value is not returned. */
  rotateGenerate(vaultId: string, path: string, options: RotateSecretBody = {}): Promise<ShardvaultResponse<SecretWritten>> {
    const target = secretUrl(vaultId, "secret-rotate", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "POST", path: target.url, body: defined(options) });
  }

  /**
   * `GET …/secrets/{path}`: the latest readable version with its value (or `version`). Client-custody
   * vaults need the client share: `{ headers: { "X-Client-Share": share } }` or `{ clientShare: share }`;
   * with `{ clientShare, reconstruct: "client" }` the share stays here and the value is rebuilt here.
   */
  get(vaultId: string, path: string, options?: ReadOptions): Promise<ShardvaultResponse<Secret>> {
    if (options?.version !== undefined) {
      const problem = versionProblem(options.version);
      if (problem) return Promise.resolve(clientValidationFailure("invalid_version", problem));
    }
    const target = secretUrl(vaultId, "secrets", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.#read({ vaultId, path }, { url: target.url, query: { version: options?.version } }, options?.version, options);
  }

  /**
   * A read of `ref` (at `version`): by the server (`request`), or with `reconstruct: "client"` sealed and opened
   * here; then CMEK-decrypted. A `#` method: not on the prototype, where every method is part of the public API.
   */
  #read(ref: SecretRef, request: { url: string; query?: Query }, version: number | undefined, options: ReadOptions | undefined): Promise<ShardvaultResponse<Secret>> {
    const problem = reconstructProblem(options?.reconstruct);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_reconstruct", problem));
    const pending =
      options?.reconstruct === "client"
        ? readClientSide(this, ref, version, options)
        : this.http.request<Secret>({ method: "GET", path: request.url, query: request.query, headers: readHeaders(options) });
    return decrypted(pending, this.cmekKey);
  }

  /**
   * `GET …/secrets/{path}` with `X-Reconstruct: client`, in a client-custody vault: the latest readable version
   * (or `version`) without its value, `sealed` for the client to open with its share (`openSealedVersion` of
   * `@shardvault/crypto/client`). The share is not sent.
   */
  getSealed(vaultId: string, path: string, options?: { version?: number; headers?: Record<string, string> }): Promise<ShardvaultResponse<SealedSecret>> {
    if (options?.version !== undefined) {
      const problem = versionProblem(options.version);
      if (problem) return Promise.resolve(clientValidationFailure("invalid_version", problem));
    }
    const target = secretUrl(vaultId, "secrets", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "GET", path: target.url, query: { version: options?.version }, headers: { ...options?.headers, "X-Reconstruct": "client" } });
  }

  /** `GET …/secret-seal/{path}`: the version a client-sealed write may claim and the vault's layout, to seal for. */
  sealTarget(vaultId: string, path: string): Promise<ShardvaultResponse<SealTarget>> {
    const target = secretUrl(vaultId, "secret-seal", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "GET", path: target.url });
  }

  /**
   * `GET …/secrets?prefix=`: the latest version of each path, never values, in path order. Without `page`, all of
   * them; with `page.limit` (1–1000), at most that many and `next_cursor` while more follow: pass it back as
   * `page.cursor` for the next page.
   */
  list(vaultId: string, prefix?: string, page: ListPage = {}): Promise<ShardvaultResponse<SecretList>> {
    const problem = idProblem("vaultId", vaultId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    if (page.limit !== undefined && !(Number.isInteger(page.limit) && page.limit >= 1 && page.limit <= 1000)) {
      return Promise.resolve(clientValidationFailure("invalid_limit", "limit must be an integer from 1 to 1000"));
    }
    return this.http.request({
      method: "GET",
      path: `/v1/vaults/${encodeURIComponent(vaultId)}/secrets`,
      query: { prefix: prefix || undefined, limit: page.limit, cursor: page.cursor || undefined },
    });
  }

  /** `DELETE …/secrets/{path}`: soft-deletes every version. */
  delete(vaultId: string, path: string): Promise<ShardvaultResponse<null>> {
    const target = secretUrl(vaultId, "secrets", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "DELETE", path: target.url });
  }

  /** `GET …/secret-versions/{path}`: every version's metadata. */
  listVersions(vaultId: string, path: string): Promise<ShardvaultResponse<SecretVersionList>> {
    const target = secretUrl(vaultId, "secret-versions", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "GET", path: target.url });
  }

  /** `GET …/secret-version/{path}/{version}`, with the client share (and `reconstruct`) as for `get`. */
  getVersion(vaultId: string, path: string, version: number, options?: Omit<ReadOptions, "version">): Promise<ShardvaultResponse<Secret>> {
    const target = secretUrl(vaultId, "secret-version", path, version);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.#read({ vaultId, path }, { url: target.url }, version, options);
  }

  /** `POST …/secret-version-disable/{path}/{version}`: that version can no longer be read. */
  disableVersion(vaultId: string, path: string, version: number): Promise<ShardvaultResponse<null>> {
    const target = secretUrl(vaultId, "secret-version-disable", path, version);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "POST", path: target.url });
  }

  /**
   * `POST …/secret-refresh/{path}` with the client share (client-custody vaults): the version's DEK split
   * afresh under the vault's current providers. Answers the new `client_share`, shown this once; the old one
   * is refused from then on. This also moves a secret onto a replacement slot when the old slot is gone.
   */
  refresh(vaultId: string, path: string, clientShare: string, options?: { version?: number }): Promise<ShardvaultResponse<SecretRefreshed>> {
    const version = options?.version;
    if (version !== undefined) {
      const problem = versionProblem(version);
      if (problem) return Promise.resolve(clientValidationFailure("invalid_version", problem));
    }
    if (typeof clientShare !== "string" || clientShare === "") return Promise.resolve(clientValidationFailure("client_share_required", "refreshing needs the secret's current client share"));
    const target = secretUrl(vaultId, "secret-refresh", path);
    if ("refused" in target) return Promise.resolve(target.refused);
    return this.http.request({ method: "POST", path: target.url, query: { version }, headers: { "X-Client-Share": clientShare } });
  }
}
