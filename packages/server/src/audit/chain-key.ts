/**
 * The audit chain key: 32 random bytes, stored only wrapped by the default key provider and bound to its
 * purpose and id, so that a copy of the database alone can neither rewrite the chain nor forge an event.
 * Created once, under the start-up advisory lock; unwrapped once at start-up. Should the slot that wraps it lose
 * its key material, a new chain key starts a new chain after every organization's head: the events chained
 * before can no longer be checked by anyone, and verification reports them as from before the chain.
 */
import { createSecretKey, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { encodeContext, wipe } from "@shardvault/crypto";
import type { Database, Queryable } from "../db/database.js";
import type { KeyProvider } from "../providers/provider.js";
import type { ProviderRegistry } from "../providers/registry.js";

const chainKeyBinding = (id: string, kekId: string) => encodeContext({ purpose: "audit-chain-key", format: 1, key_id: id, kek_id: kekId });

interface ChainKeyRow {
  id: string;
  kek_slot: string;
  kek_id: string;
  wrapped_key: Uint8Array;
}

/** A new chain key wrapped at `provider`, stored through `q`. */
async function addChainKey(q: Queryable, provider: KeyProvider): Promise<void> {
  const id = randomUUID();
  const kekId = await provider.createKek(`audit-chain-key:${id}`);
  const key = randomBytes(32);
  try {
    const wrapped = await provider.wrap(kekId, key, chainKeyBinding(id, kekId));
    await q.query("INSERT INTO audit_chain_keys (id, kek_slot, kek_id, wrapped_key) VALUES ($1, $2, $3, $4)", [id, provider.slot, kekId, wrapped]);
  } finally {
    wipe(key);
  }
}

/** Creates the chain key if there is none. Runs under the start-up advisory lock. */
export async function ensureAuditChainKey(db: Database, provider: KeyProvider): Promise<void> {
  if ((await db.query("SELECT 1 FROM audit_chain_keys LIMIT 1")).length > 0) return;
  await addChainKey(db, provider);
}

/**
 * Replaces a chain key that can no longer be unwrapped: a new key at `provider`, and every organization's chain
 * starts again after its head, in one transaction. Runs under the start-up advisory lock.
 */
export async function startNewAuditChain(db: Database, provider: KeyProvider): Promise<void> {
  await db.transaction(async (tx) => {
    await addChainKey(tx, provider);
    await tx.query("UPDATE audit_chain_heads SET chain_start_seq = last_seq + 1, last_event_id = NULL, last_hash = NULL");
  });
}

/** The chain key, unwrapped at its provider; held as a KeyObject, its bytes wiped. */
export async function loadAuditChainKey(db: Database, providers: ProviderRegistry): Promise<KeyObject> {
  const [row] = await db.query<ChainKeyRow>("SELECT id, kek_slot, kek_id, wrapped_key FROM audit_chain_keys ORDER BY created_at DESC, id LIMIT 1");
  if (!row) throw new Error("no audit chain key: the start-up bootstrap did not run");
  const provider = providers.get(row.kek_slot);
  if (!provider) throw new Error(`the audit chain key is wrapped by provider slot ${row.kek_slot}, which is not configured`);
  const key = await provider.unwrap(row.kek_id, row.wrapped_key, chainKeyBinding(row.id, row.kek_id));
  try {
    return createSecretKey(key);
  } finally {
    wipe(key);
  }
}
