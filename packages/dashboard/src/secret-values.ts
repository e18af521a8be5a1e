/**
 * The one place the dashboard reads and writes secret values.
 *
 * In a client-custody vault the client share never leaves the browser. A read asks for the version sealed
 * (`X-Reconstruct: client`: the sealed value, the DEK commitment and the server's shares, never enough to rebuild
 * the key alone) and opens it here with `openSealedVersion`; a write asks for a seal target (the version number it
 * may claim and the vault's layout), seals here with `sealForServer` and sends only the sealed version, keeping the
 * new client share for the page to show once. Other vaults read and write through the server as usual.
 */
import { openSealedVersion, sealForServer, wipe } from "@shardvault/crypto/client";
import type { Secret, SecretWritten, ShardvaultClient, ShardvaultError, ShardvaultResponse, Vault, WriteSecretBody } from "@shardvault/sdk";
import { cryptoFailure } from "./crypto-errors";
import { needsClientShare } from "./custody";

/** A revealed value and what the panel says about it. */
export type RevealedSecret = Pick<Secret, "path" | "version" | "value" | "cmek_encrypted">;

/** What a value write sends besides the value. */
export type WriteFields = Omit<WriteSecretBody, "value" | "sealed">;

/** A refusal made in the browser (nothing, or nothing more, was sent): the SDK's shape, with status 0. */
const refused = (error: ShardvaultError): ShardvaultResponse<never> => ({ data: null, error, meta: { status: 0 } });

/**
 * Reads `path` (the latest readable version, or `version`) and its value. In client-custody vaults `clientShare`
 * is required and used here only, to open what the server sealed.
 */
export async function readSecretValue(
  client: ShardvaultClient,
  vault: Vault,
  path: string,
  version: number | "latest",
  clientShare?: string,
): Promise<ShardvaultResponse<RevealedSecret>> {
  const wanted = version === "latest" ? {} : { version };
  if (!needsClientShare(vault.mpc_custody)) return client.secrets.get(vault.id, path, wanted);
  if (!clientShare) return refused(SHARE_REQUIRED);
  const answer = await client.secrets.getSealed(vault.id, path, wanted);
  if (answer.error) return answer;
  const { sealed, ...secret } = answer.data;
  // The version opened is the one asked for (or, for the latest, the one answered): a server that answers
  // another version's sealed copy fails the context check instead of passing it off.
  const ref = { vaultId: vault.id, path, version: version === "latest" ? secret.version : version };
  let bytes: Uint8Array | undefined;
  try {
    bytes = await openSealedVersion(sealed, clientShare, ref);
    return { data: { path: secret.path, version: secret.version, cmek_encrypted: secret.cmek_encrypted, value: new TextDecoder().decode(bytes) }, error: null, meta: answer.meta };
  } catch (error) {
    return refused(cryptoFailure(error, ref));
  } finally {
    wipe(bytes);
  }
}

/** How often a client-sealed write is sealed afresh when another write took its version or the layout changed. */
const SEAL_ATTEMPTS = 3;
const RESEAL_CODES = new Set(["version_conflict", "layout_changed"]);

/**
 * Writes the next version of `path` with `value`. In client-custody vaults the answer's `client_share` is the one
 * made here (the server never sees it); elsewhere it is whatever the server answered.
 */
export async function writeSecretValue(client: ShardvaultClient, vault: Vault, path: string, value: string, fields: WriteFields): Promise<ShardvaultResponse<SecretWritten>> {
  if (!needsClientShare(vault.mpc_custody)) return client.secrets.put(vault.id, path, { ...fields, value });
  for (let attempt = 1; ; attempt++) {
    const target = await client.secrets.sealTarget(vault.id, path);
    if (target.error) return target;
    const plaintext = new TextEncoder().encode(value);
    let sealing: Awaited<ReturnType<typeof sealForServer>>;
    try {
      sealing = await sealForServer(target.data, plaintext);
    } catch (error) {
      return refused(cryptoFailure(error, { path, version: target.data.version }));
    } finally {
      wipe(plaintext);
    }
    const answer = await client.secrets.put(vault.id, path, { ...fields, sealed: sealing.sealed });
    // Another write took this version, or the vault's providers changed: the seal is void, seal again.
    if (answer.error && RESEAL_CODES.has(answer.error.code) && attempt < SEAL_ATTEMPTS) continue;
    if (answer.error) return answer;
    return { ...answer, data: { ...answer.data, client_share: sealing.clientShare } };
  }
}

const SHARE_REQUIRED: ShardvaultError = {
  type: "validation_error",
  code: "client_share_required",
  message: "Paste the client share of this version to reveal it.",
  detail: "Paste the client share of this version to reveal it.",
};
