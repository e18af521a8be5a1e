/**
 * A slot whose key material is gone (docs: providers.md). Start-up checks every slot whose key material is a
 * local file against the database before any provider is built. A key file that a slot's data in the database
 * was made with is never created anew (that would turn the stored shares into garbage): when it is missing, or is
 * not the one that data was made with, every slot on it starts unavailable (one never used too: building it
 * would create the missing file) and the other slots serve what they can. When no slot holding data is left
 * usable the server does not start, naming the default slot's file, and creates nothing.
 */
import { existsSync } from "node:fs";
import { equalBytes } from "@shardvault/crypto";
import type { Queryable } from "../db/database.js";
import { ConfigError } from "../providers/backend.js";
import { keyFileCheck } from "../providers/local.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { buildProviders, type Deployment } from "./deployment.js";

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

/**
 * The slots whose key file is missing or wrong while the database holds key material made with it, with why
 * (every slot on such a file); throws when no used slot is left. Creates nothing.
 */
export async function unusableKeyFiles(db: Queryable, deployment: Deployment): Promise<Map<string, string>> {
  const inUse = await slotsInUse(db);
  const rows = await db.query<{ slot: string; key_check: Uint8Array }>("SELECT slot, key_check FROM provider_key_checks");
  const recorded = new Map(rows.map((row) => [row.slot, row.key_check]));
  const files = keyFilesOf(deployment);
  /** Why a file may not be used, by file. */
  const refused = new Map<string, string>();
  for (const { slot, file } of files) {
    if (!inUse.has(slot) || refused.has(file)) continue;
    const check = recorded.get(slot);
    if (!existsSync(file)) {
      refused.set(file, `its key file ${file} is missing; the database holds ${slot} key material made with it, which a fresh key would not open: restore the file`);
    } else if (check && !equalBytes(check, keyFileCheck(file))) {
      refused.set(file, `its key file ${file} is not the one this database's ${slot} key material was made with: restore the right file`);
    }
  }
  const unusable = new Map(files.flatMap(({ slot, file }) => (refused.has(file) ? [[slot, refused.get(file)!] as const] : [])));
  // Without the default slot the token signing key is made anew at another slot (server.ts), as long as one of
  // the slots holding data still works; with none, nothing could be served.
  const fatal = unusable.get(deployment.defaultProvider);
  const servable = deployment.slots.some(({ slot }) => inUse.has(slot) && !unusable.has(slot));
  if (fatal && !servable) throw new ConfigError(`provider slot ${deployment.defaultProvider} (the default, it wraps the token signing key): ${fatal}; no key file was created`);
  return unusable;
}

/** Records the check value of every usable key file (a slot never used may have a new file). */
async function recordKeyFiles(db: Queryable, deployment: Deployment, unusable: ReadonlyMap<string, string>): Promise<void> {
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

/**
 * Start-up's providers, under the start-up lock: the key files checked against the database before any provider
 * is built (building a local slot creates its file when missing), a slot found unusable standing in as
 * unavailable, then the check values of the usable files recorded. `unusable`: those slots, with why.
 */
export async function buildCheckedProviders(
  db: Queryable,
  deployment: Deployment,
  ctx: Parameters<typeof buildProviders>[1],
): Promise<{ registry: ProviderRegistry; unusable: ReadonlyMap<string, string> }> {
  const unusable = await unusableKeyFiles(db, deployment);
  const registry = await buildProviders(deployment, ctx, unusable);
  try {
    await recordKeyFiles(db, deployment, unusable);
  } catch (error) {
    await Promise.all(registry.all().map((p) => p.close().catch(() => undefined)));
    throw error;
  }
  return { registry, unusable };
}
