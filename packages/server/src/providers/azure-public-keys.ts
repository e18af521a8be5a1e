/**
 * Azure RSA KEKs wrap locally: RSA-OAEP-256 needs only the public key, so a wrap need not wait for the vault
 * (with an RSA slot among MPC holders, the slowest round trip of a write). Unwraps still go to Azure.
 *
 * Why it is safe: a local wrap is the very ciphertext Azure would have made (RSA-OAEP with the same public key,
 * random padding), of the same framed input, so nothing about what is stored or how it is checked changes, nor
 * the refusals that follow from RSA wraps being forgeable (providers say `forgeableWraps`; envelope/ never rests
 * a DEK on RSA slots alone). The public key comes from the vault over the authenticated client, and is used
 * only if the vault says it is exactly the KEK's key version (its `kid`), an enabled RSA key allowing wrapKey,
 * of at least 2048 bits, within its validity dates. Each key version's public key is remembered (key versions
 * are immutable) and its attributes fetched again every `PUBLIC_KEY_RECHECK_MS`, so a key disabled in Azure by
 * hand stops local wraps within that interval (a key disabled through `disableKek` stops them at once; reads
 * of it stop at once either way, since unwraps are Azure's).
 */
import { constants, createPublicKey, publicEncrypt, type KeyObject } from "node:crypto";
import type { KeyVaultKey } from "@azure/keyvault-keys";
import { BoundedCache } from "./cloud-common.js";
import { ProviderError } from "./provider.js";

export const PUBLIC_KEY_RECHECK_MS = 5 * 60_000;
const MIN_RSA_BITS = 2048;

interface KnownKey {
  publicKey: KeyObject;
  notBefore: number | undefined;
  expiresOn: number | undefined;
  fetchedAt: number;
}

export interface RsaPublicKeys {
  /** RSA-OAEP-256 of `framed` under the KEK's public key; `fetch` gets the key version from the vault when needed. */
  wrap(kekId: string, framed: Uint8Array, fetch: () => Promise<KeyVaultKey>): Promise<Uint8Array>;
  /** Remembers a key version the vault just answered (creating or reading it), after the same checks. */
  remember(kekId: string, key: KeyVaultKey): void;
  forget(kekId: string): void;
  clear(): void;
}

/** `kekId` is `name/version` under `vaultUrl`; `now` is wall-clock milliseconds (tests move it). */
export function rsaPublicKeys(slot: string, vaultUrl: string, now: () => number = Date.now): RsaPublicKeys {
  const known = new BoundedCache<KnownKey>(512);
  const refuse = (kekId: string, why: string) => new ProviderError("misconfigured", slot, `KEK ${kekId} cannot wrap: ${why}`);

  function check(kekId: string, key: KeyVaultKey): KnownKey {
    if (key.id !== `${vaultUrl}/keys/${kekId}`) throw refuse(kekId, "the vault answered for another key");
    if (key.keyType !== "RSA" && key.keyType !== "RSA-HSM") throw refuse(kekId, "not an RSA key");
    if (key.keyOperations && !key.keyOperations.includes("wrapKey")) throw refuse(kekId, "the key does not allow wrapKey");
    if (key.properties.enabled === false) throw refuse(kekId, "the key is disabled");
    const { n, e } = key.key ?? {};
    if (!n || !e) throw refuse(kekId, "the vault gave no public key");
    const publicKey = createPublicKey({ key: { kty: "RSA", n: Buffer.from(n).toString("base64url"), e: Buffer.from(e).toString("base64url") }, format: "jwk" });
    if ((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) throw refuse(kekId, `the key has fewer than ${MIN_RSA_BITS} bits`);
    return { publicKey, notBefore: key.properties.notBefore?.getTime(), expiresOn: key.properties.expiresOn?.getTime(), fetchedAt: now() };
  }

  return {
    async wrap(kekId, framed, fetch) {
      let entry = known.get(kekId);
      if (!entry || now() - entry.fetchedAt >= PUBLIC_KEY_RECHECK_MS) {
        known.set(kekId, (entry = check(kekId, await fetch())));
      }
      const at = now();
      if ((entry.notBefore !== undefined && at < entry.notBefore) || (entry.expiresOn !== undefined && at >= entry.expiresOn)) {
        throw refuse(kekId, "the key is outside its validity dates");
      }
      try {
        return publicEncrypt({ key: entry.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, framed);
      } catch {
        // Too long for the key: what the vault would have refused too.
        throw refuse(kekId, "the input is too long for the key and algorithm");
      }
    },
    remember(kekId, key) {
      known.set(kekId, check(kekId, key));
    },
    forget: (kekId) => known.delete(kekId),
    clear: () => known.clear(),
  };
}
