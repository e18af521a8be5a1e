/**
 * Client-side reconstruction (client-custody vaults, `reconstruct: "client"`): this client rebuilds a version's
 * key from the server's shares and its own, or makes the key and seals the value itself, so the server never
 * receives the client share, the key or the value. The crypto is `@shardvault/crypto/client` (Node-free); the
 * requests are the resource's `getSealed`, `sealTarget` and sealed `put`; this module is the exchange between.
 *
 * Read: the sealed version is opened for the vault and path asked for and the version answered, so a server
 * cannot pass off another secret's or version's value.
 * Write: the value is sealed for the seal target and sent as `sealed`. Another write taking that version first
 * (`version_conflict`) or a provider change (`layout_changed`) means sealing again for a fresh target.
 */
import { openSealedVersion, sealForServer, wipe } from "@shardvault/crypto/client";
import type { SealedSecret, Secret, SecretWritten, WriteSecretBody } from "./api-types.js";
import { clientValidationFailure, failure, withClientCrypto } from "./errors.js";
import type { SecretsResource } from "./resources/secrets.js";
import type { ReadOptions, ShardvaultResponse } from "./types.js";

/** Tries of a sealed write; each after the first follows a conflict that a fresh seal target resolves. */
const SEAL_ATTEMPTS = 3;
const RESEAL_ON = new Set(["version_conflict", "layout_changed"]);

/** The secret a call names, as the caller named it: what the sealed contexts must name. */
export interface SecretRef {
  vaultId: string;
  path: string;
}

const invalidAnswer = (status: number, what: string) =>
  failure<never>(status, { type: "server_error", message: `the server's answer holds no ${what}`, code: "invalid_response", detail: `the server's answer holds no ${what}` });

/**
 * Reads `ref` (at `version`, else the latest readable one) sealed and opens it with `options.clientShare`. The
 * share is never sent: extra headers carrying an `X-Client-Share` are refused before anything is sent.
 */
export async function readClientSide(secrets: SecretsResource, ref: SecretRef, version: number | undefined, options: ReadOptions): Promise<ShardvaultResponse<Secret>> {
  const { clientShare, headers } = options;
  if (typeof clientShare !== "string" || clientShare === "") {
    return clientValidationFailure("client_share_required", "client-side reconstruction needs the version's client share (clientShare)");
  }
  if (Object.keys(headers ?? {}).some((name) => name.toLowerCase() === "x-client-share")) {
    return clientValidationFailure("conflicting_headers", "client-side reconstruction never sends the client share: give it as clientShare, not as an X-Client-Share header");
  }
  const answer = await secrets.getSealed(ref.vaultId, ref.path, { ...(version !== undefined ? { version } : {}), headers: { ...headers } });
  if (answer.error) return answer;
  const { sealed, ...meta } = answer.data ?? ({} as Partial<SealedSecret>);
  if (typeof sealed !== "object" || sealed === null || typeof meta.version !== "number") return invalidAnswer(answer.meta.status, "sealed version");
  return withClientCrypto(answer.meta.status, async () => {
    // The version asked for, when one was: an answer naming another version then fails the context check.
    const bytes = await openSealedVersion(sealed, clientShare, { ...ref, version: version ?? meta.version! });
    // The writer encoded a string as UTF-8, and the commitment and the seal vouch for these bytes.
    const value = new TextDecoder().decode(bytes);
    wipe(bytes);
    return { ...answer, data: { ...(meta as Omit<Secret, "value">), value } };
  });
}

/**
 * Writes `value` sealed on this client: seal target, seal, `put({ sealed, …fields })` (`fields` as sent: only
 * those that are set). Answers the written version's metadata with the `client_share` made here, as a
 * server-side client-custody write answers it.
 */
export async function writeClientSide(
  secrets: SecretsResource,
  ref: SecretRef,
  fields: Omit<WriteSecretBody, "value" | "sealed">,
  value: string,
): Promise<ShardvaultResponse<SecretWritten>> {
  const plaintext = new TextEncoder().encode(value);
  try {
    for (let attempt = 1; ; attempt++) {
      const target = await secrets.sealTarget(ref.vaultId, ref.path);
      if (target.error) return target;
      // The target's vault and path go into every context sealed for it: they must be the ones asked for.
      if (target.data?.vault_id !== ref.vaultId || target.data.path !== ref.path) return invalidAnswer(target.meta.status, `seal target for ${ref.path}`);
      const made = await withClientCrypto(target.meta.status, async () => ({ ...target, data: await sealForServer(target.data, plaintext) }));
      if (made.error) return made;
      const written = await secrets.put(ref.vaultId, ref.path, { ...fields, sealed: made.data.sealed });
      if (written.error && RESEAL_ON.has(written.error.code) && attempt < SEAL_ATTEMPTS) continue;
      if (written.error) return written;
      return { ...written, data: { ...written.data, client_share: made.data.clientShare } };
    }
  } finally {
    wipe(plaintext);
  }
}
