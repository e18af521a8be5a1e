/**
 * The Ed25519 keys that sign access tokens. The private key is stored only wrapped by the default key
 * provider, bound to its purpose and kid, so a database dump cannot mint tokens. Public keys are in the
 * database too, so every instance verifies every other instance's tokens.
 */
import { generateKeyPairSync, randomUUID, webcrypto, type JsonWebKey } from "node:crypto";
import { encodeContext, wipe } from "@shardvault/crypto";
import type { Database } from "../db/database.js";
import type { KeyProvider } from "../providers/provider.js";
import type { ProviderRegistry } from "../providers/registry.js";

const signingKeyBinding = (kid: string, kekId: string) => encodeContext({ purpose: "jwt-signing-key", format: 1, kid, kek_id: kekId });

interface SigningKeyRow {
  kid: string;
  kek_slot: string;
  kek_id: string;
  wrapped_private_key: Uint8Array;
  public_jwk: JsonWebKey;
}

/** Creates the first signing key if there is none. Runs under the start-up advisory lock. */
export async function ensureSigningKey(db: Database, provider: KeyProvider): Promise<void> {
  const existing = await db.query("SELECT 1 FROM signing_keys LIMIT 1");
  if (existing.length > 0) return;
  const kid = randomUUID();
  const kekId = await provider.createKek(`signing-key:${kid}`);
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  try {
    const wrapped = await provider.wrap(kekId, der, signingKeyBinding(kid, kekId));
    await db.query("INSERT INTO signing_keys (kid, kek_slot, kek_id, wrapped_private_key, public_jwk) VALUES ($1, $2, $3, $4, $5::jsonb)", [
      kid,
      provider.slot,
      kekId,
      wrapped,
      JSON.stringify(publicKey.export({ format: "jwk" })),
    ]);
  } finally {
    wipe(der);
  }
}

type CryptoKey = webcrypto.CryptoKey;

export interface SigningKeys {
  /** The newest key, which signs. */
  current: { kid: string; privateKey: CryptoKey };
  /** Public keys by kid; reloaded from the database when a token names an unknown kid. */
  publicKey(kid: string): Promise<CryptoKey | undefined>;
  jwks(): Promise<{ keys: JsonWebKey[] }>;
}

export async function loadSigningKeys(db: Database, providers: ProviderRegistry): Promise<SigningKeys> {
  const load = () => db.query<SigningKeyRow>("SELECT kid, kek_slot, kek_id, wrapped_private_key, public_jwk FROM signing_keys ORDER BY created_at DESC");
  let rows = await load();
  const newest = rows[0];
  if (!newest) throw new Error("no signing key: the start-up bootstrap did not run");
  const provider = providers.get(newest.kek_slot);
  if (!provider) throw new Error(`the token signing key is wrapped by provider slot ${newest.kek_slot}, which is not configured`);
  const der = Buffer.from(await provider.unwrap(newest.kek_id, newest.wrapped_private_key, signingKeyBinding(newest.kid, newest.kek_id)));
  let privateKey: CryptoKey;
  try {
    // jose works on WebCrypto keys: converted once here, not on every token (that cost 13% of a read).
    privateKey = await webcrypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  } finally {
    wipe(der);
  }
  const publicKeys = new Map<string, CryptoKey>();
  const toPublic = async (row: SigningKeyRow) => {
    let key = publicKeys.get(row.kid);
    if (!key) {
      key = await webcrypto.subtle.importKey("jwk", row.public_jwk as webcrypto.JsonWebKey, { name: "Ed25519" }, true, ["verify"]);
      publicKeys.set(row.kid, key);
    }
    return key;
  };
  return {
    current: { kid: newest.kid, privateKey },
    async publicKey(kid) {
      let row = rows.find((r) => r.kid === kid);
      if (!row) {
        rows = await load();
        row = rows.find((r) => r.kid === kid);
      }
      return row ? toPublic(row) : undefined;
    },
    async jwks() {
      return { keys: rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: "EdDSA", use: "sig" })) };
    },
  };
}
