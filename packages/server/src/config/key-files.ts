/**
 * A slot whose key material is gone (docs: providers.md). Start-up checks every slot whose key material is a
 * local file against the database before any provider is built. A slot that already holds KEKs or shares never
 * gets a fresh key file (that would turn its stored shares into garbage): when its file is missing, or is not
 * the one its data was made with, the slot starts unavailable and the other slots serve what they can. When no
 * slot holding data is left usable the server does not start, naming the default slot's file, and creates nothing.
 */
import { existsSync } from "node:fs";
import { equalBytes } from "@shardvault/crypto";
import type { Queryable } from "../db/database.js";
import { ConfigError } from "../providers/backend.js";
import { keyFileCheck } from "../providers/local.js";
import type { Deployment } from "./deployment.js";

/** Slots the database holds key material of: the token signing key, every vault's KEK, MPC vaults' KEKs. */
async function slotsInUse(db: Queryable): Promise<Set<string>> {
  const rows = await db.query<{ slot: string }>(
    "SELECT kek_slot AS slot FROM signing_keys UNION SELECT kek_slot FROM vaults UNION SELECT provider FROM vault_mpc_keks",
  );
  return new Set(rows.map((row) => row.slot));
}

/** The slots whose key material is a local file, with the file. */
export const keyFilesOf = (deployment: Deployment) =>
  deployment.slots.flatMap(({ slot, backend, config }) => {
    const file = backend.keyFile?.(config);
    return file ? [{ slot, file }] : [];
  });

/** The used slots whose key file is missing or wrong, with why; throws when no used slot is left. Creates nothing. */
export async function unusableKeyFiles(db: Queryable, deployment: Deployment): Promise<Map<string, string>> {
  const inUse = await slotsInUse(db);
  const rows = await db.query<{ slot: string; key_check: Uint8Array }>("SELECT slot, key_check FROM provider_key_checks");
  const recorded = new Map(rows.map((row) => [row.slot, row.key_check]));
  const unusable = new Map<string, string>();
  for (const { slot, file } of keyFilesOf(deployment)) {
    if (!inUse.has(slot)) continue;
    const check = recorded.get(slot);
    if (!existsSync(file)) {
      unusable.set(slot, `its key file ${file} is missing; the database holds this slot's key material, which a fresh key would not open: restore the file`);
    } else if (check && !equalBytes(check, keyFileCheck(file))) {
      unusable.set(slot, `its key file ${file} is not the one this database's ${slot} key material was made with: restore the right file`);
    }
  }
  // Without the default slot the token signing key is made anew at another slot (server.ts), as long as one of
  // the slots holding data still works; with none, nothing could be served.
  const fatal = unusable.get(deployment.defaultProvider);
  const servable = deployment.slots.some(({ slot }) => inUse.has(slot) && !unusable.has(slot));
  if (fatal && !servable) throw new ConfigError(`provider slot ${deployment.defaultProvider} (the default, it wraps the token signing key): ${fatal}; no key file was created`);
  return unusable;
}

/** Records the check value of every usable key file (a slot never used may have a new file). */
export async function recordKeyFiles(db: Queryable, deployment: Deployment, unusable: ReadonlyMap<string, string>): Promise<void> {
  for (const { slot, file } of keyFilesOf(deployment)) {
    if (unusable.has(slot)) continue;
    await db.query(
      `INSERT INTO provider_key_checks (slot, key_check) VALUES ($1, $2)
       ON CONFLICT (slot) DO UPDATE SET key_check = EXCLUDED.key_check, recorded_at = now()
       WHERE provider_key_checks.key_check <> EXCLUDED.key_check`,
      [slot, keyFileCheck(file)],
    );
  }
}
