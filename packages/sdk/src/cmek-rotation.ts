/**
 * CMEK key rotation done by the client, for vaults whose values the server cannot open alone (client-custody
 * MPC: the server answers 409 `rotation_needs_client_shares`). Every latest version is read with its client
 * share and re-encrypted under the new key in memory first; only when all of them succeeded does the vault
 * switch to the new fingerprint and each re-encrypted value become a new version.
 */
import { cmekDecrypt, cmekEncrypt, cmekFingerprint } from "./cmek.js";
import { clientValidationFailure, withClientCrypto } from "./errors.js";
import type { SecretsResource } from "./resources/secrets.js";
import type { VaultResource } from "./resources/vault.js";
import type { ShardvaultResponse } from "./types.js";

export interface ClientSideCmekRotation {
  oldKey: Uint8Array;
  newKey: Uint8Array;
  /** Client-custody vaults: the client share of each path's latest version, by path. */
  clientShares?: Record<string, string>;
}

export interface RotatedSecret {
  path: string;
  version: number;
  /** The new version's client share (client-custody vaults): store it, the old one reads only the old version. */
  client_share?: string;
}

/** `secrets` and `vault` must be resources without a `cmekKey`: this function does the CMEK layer itself. */
export async function rotateCmekClientSide(
  secrets: SecretsResource,
  vault: VaultResource,
  vaultId: string,
  rotation: ClientSideCmekRotation,
): Promise<ShardvaultResponse<{ rotated: RotatedSecret[] }>> {
  if (typeof rotation !== "object" || rotation === null) return clientValidationFailure("invalid_argument", "the rotation needs { oldKey, newKey }");
  // Both keys are checked before anything is read (a key of the wrong size is a cmek_error).
  const fingerprint = await withClientCrypto(0, async () => {
    await cmekFingerprint(rotation.oldKey);
    return { data: await cmekFingerprint(rotation.newKey), error: null, meta: { status: 0 } };
  });
  if (fingerprint.error) return fingerprint;
  const listed = await secrets.list(vaultId);
  if (listed.error) return listed;
  const prepared: Array<{ path: string; type: string; metadata?: Record<string, unknown>; blob: string }> = [];
  for (const meta of listed.data.secrets) {
    const share = rotation.clientShares?.[meta.path];
    const read = await secrets.get(vaultId, meta.path, share === undefined ? {} : { clientShare: share });
    if (read.error) return read;
    if (!read.data.cmek_encrypted) continue;
    const secret = read.data;
    const blob = await withClientCrypto(read.meta.status, async () => ({ data: await cmekEncrypt(await cmekDecrypt(secret.value, rotation.oldKey), rotation.newKey), error: null, meta: read.meta }));
    if (blob.error) return blob;
    prepared.push({ path: meta.path, type: secret.type, ...(secret.metadata ? { metadata: secret.metadata as Record<string, unknown> } : {}), blob: blob.data });
  }
  const disabled = await vault.disableCmek(vaultId);
  if (disabled.error) return disabled;
  const enabled = await vault.enableCmek(vaultId, { fingerprint: fingerprint.data });
  if (enabled.error) return enabled;
  const rotated: RotatedSecret[] = [];
  for (const p of prepared) {
    const written = await secrets.put(vaultId, p.path, { type: p.type as never, value: p.blob, ...(p.metadata ? { metadata: p.metadata } : {}) });
    if (written.error) return written;
    rotated.push({ path: p.path, version: written.data.version, ...(written.data.client_share ? { client_share: written.data.client_share } : {}) });
  }
  return { data: { rotated }, error: null, meta: enabled.meta };
}
