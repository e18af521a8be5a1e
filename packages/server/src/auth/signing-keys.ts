/**
 * The Ed25519 keys that sign access tokens. The private key is stored only wrapped by the default key
 * provider, bound to its purpose and kid, so a database dump cannot mint tokens. Public keys are in the
 * database too, so every instance verifies every other instance's tokens.
 */
import { generateKeyPairSync, randomUUID, webcrypto, type JsonWebKey } from "node:crypto";
import { encodeContext, wipe } from "@shardvault/crypto";
import type { Database, Queryable } from "../db/database.js";
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
  await addSigningKey(db, provider);
}

/** Adds a signing key, the newest, wrapped by `provider`; a trigger announces it to every instance (NOTIFY). */
export async function addSigningKey(db: Queryable, provider: KeyProvider): Promise<string> {
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
    return kid;
  } finally {
    wipe(der);
  }
}

type CryptoKey = webcrypto.CryptoKey;

/** The channel a trigger on `signing_keys` notifies on every change (migration 090). */
export const SIGNING_KEYS_CHANNEL = "shardvault_signing_keys";
/**
 * At most one reload of the key list per this interval for tokens naming an unknown kid: in between such tokens
 * are refused from memory, so made-up kids cannot make the server query its database per request. A key added
 * by another instance is picked up at once through the NOTIFY, or at the latest after this interval.
 */
export const UNKNOWN_KID_RELOAD_INTERVAL_MS = 30_000;

export interface SigningKeys {
  /** The newest key, which signs. */
  current: { kid: string; privateKey: CryptoKey };
  /** Public keys by kid, from memory; reloaded on a key change, or at most once per interval for an unknown kid. */
  publicKey(kid: string): Promise<CryptoKey | undefined>;
  /** Whether the key list in memory (as of the last reload) holds `kid`; never reloads. */
  has(kid: string): boolean;
  jwks(): Promise<{ keys: JsonWebKey[] }>;
}

export interface SigningKeysOptions {
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
  reloadIntervalMs?: number;
}

export async function loadSigningKeys(db: Database, providers: ProviderRegistry, opts: SigningKeysOptions = {}): Promise<SigningKeys> {
  const now = opts.now ?? (() => performance.now());
  const interval = opts.reloadIntervalMs ?? UNKNOWN_KID_RELOAD_INTERVAL_MS;
  const load = () => db.query<SigningKeyRow>("SELECT kid, kek_slot, kek_id, wrapped_private_key, public_jwk FROM signing_keys ORDER BY created_at DESC");
  let rows: SigningKeyRow[] = [];
  let lastReload = 0;
  // Key changes announced (NOTIFY) and the number of them the loaded list already reflects.
  let changes = 0;
  let loadedChanges = 0;
  let reloading: Promise<void> | undefined;
  const reload = (): Promise<void> => {
    if (!reloading) {
      const target = changes;
      lastReload = now();
      reloading = load()
        .then((fresh) => {
          rows = fresh;
          loadedChanges = target;
        })
        .finally(() => (reloading = undefined));
    }
    return reloading;
  };
  // Listening before the first load: no change between the two goes unheard.
  await db.listen(SIGNING_KEYS_CHANNEL, () => {
    changes++;
    // A failed reload leaves the list marked stale: the next unknown kid retries it.
    reload().catch(() => undefined);
  });
  await reload();

  const newest = rows[0];
  if (!newest) throw new Error("no signing key: the start-up bootstrap did not run");
  const provider = providers.get(newest.kek_slot);
  if (!provider) throw new Error(`the token signing key is wrapped by provider slot ${newest.kek_slot}, which is not configured`);
  // The provider's own buffer, imported as is and wiped: a copy would leave this one holding the key.
  const der = await provider.unwrap(newest.kek_id, newest.wrapped_private_key, signingKeyBinding(newest.kid, newest.kek_id));
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
      if (!row && (changes !== loadedChanges || now() - lastReload >= interval)) {
        await reload();
        row = rows.find((r) => r.kid === kid);
      }
      return row ? toPublic(row) : undefined;
    },
    has: (kid) => rows.some((r) => r.kid === kid),
    async jwks() {
      return { keys: rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: "EdDSA", use: "sig" })) };
    },
  };
}
