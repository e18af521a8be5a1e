/**
 * The one place the dashboard reads and writes secret values.
 *
 * In a client-custody vault the client share never leaves the browser: reads and writes go through the SDK's
 * client-side reconstruction (`reconstruct: "client"`), which opens what the server sealed, or seals the value
 * here, with `@shardvault/crypto/client`, and hands back the new client share for the page to show once. Other
 * vaults read and write through the server as usual.
 */
import type { Secret, SecretWritten, ShardvaultClient, ShardvaultError, ShardvaultResponse, Vault, WriteSecretBody } from "@shardvault/sdk";
import { cryptoFailure, explained, type VersionNamed } from "./crypto-errors";
import { needsClientShare } from "./custody";

/** A revealed value and what the panel says about it. */
export type RevealedSecret = Pick<Secret, "path" | "version" | "value" | "cmek_encrypted">;

/** What a value write sends besides the value. */
export type WriteFields = Omit<WriteSecretBody, "value" | "sealed">;

/** A refusal made in the browser (nothing, or nothing more, was sent): the SDK's shape, with status 0. */
const refused = (error: ShardvaultError): ShardvaultResponse<never> => ({ data: null, error, meta: { status: 0 } });

/** A client-side call with its crypto failures in the dashboard's words. */
async function clientSide<T>(about: VersionNamed, call: () => Promise<ShardvaultResponse<T>>): Promise<ShardvaultResponse<T>> {
  try {
    const answer = await call();
    return answer.error ? { ...answer, error: explained(answer.error, about) } : answer;
  } catch (error) {
    return refused(cryptoFailure(error, about));
  }
}

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
  if (needsClientShare(vault.mpc_custody) && !clientShare) return refused(SHARE_REQUIRED);
  const answer = needsClientShare(vault.mpc_custody)
    ? await clientSide({ path, ...wanted }, () => client.secrets.get(vault.id, path, { ...wanted, clientShare, reconstruct: "client" }))
    : await client.secrets.get(vault.id, path, wanted);
  if (answer.error) return answer;
  const { value, cmek_encrypted } = answer.data;
  return { ...answer, data: { path: answer.data.path, version: answer.data.version, value, cmek_encrypted } };
}

/**
 * Writes the next version of `path` with `value`. In client-custody vaults the answer's `client_share` is the one
 * made here (the server never sees it); elsewhere it is whatever the server answered.
 */
export async function writeSecretValue(client: ShardvaultClient, vault: Vault, path: string, value: string, fields: WriteFields): Promise<ShardvaultResponse<SecretWritten>> {
  if (!needsClientShare(vault.mpc_custody)) return client.secrets.put(vault.id, path, { ...fields, value });
  return clientSide({ path }, () => client.secrets.put(vault.id, path, { ...fields, value }, { reconstruct: "client" }));
}

const SHARE_REQUIRED: ShardvaultError = {
  type: "validation_error",
  code: "client_share_required",
  message: "Paste the client share of this version to reveal it.",
  detail: "Paste the client share of this version to reveal it.",
};
