/**
 * `shardvault backup --out DIR`: the database — `pg_dump` (custom format) for PostgreSQL, PGlite's own dump of
 * its data folder for the embedded database — and `inventory.json`, which says for each provider slot what key
 * material its data needs and where that lives: the key file of a local slot (never copied: a backup holding
 * the database and the key files decrypts everything), the token of a PKCS#11 slot, the KEKs a cloud slot's
 * data references (their ids; cloud keys never leave their service). The README's "Backup and restore" says how
 * to restore. PostgreSQL can be dumped while the server runs (pg_dump reads one snapshot); the embedded database
 * only while it is stopped (one process owns the folder).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Deployment } from "../config/deployment.js";
import type { Settings } from "../config/env.js";
import type { Database } from "../db/database.js";
import { acquireFolderLock } from "../db/folder-lock.js";
import { pgliteDataDir } from "../db/pglite.js";
import { openPostgres } from "../db/postgres.js";
import { CLIENT_CUSTODY_MODE_NAMES } from "../envelope/custody-modes.js";
import { SERVER_VERSION } from "../version.js";

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

export const PG_DUMP_FILE = "database.pgdump";
export const PGLITE_DUMP_FILE = "pglite-data.tar.gz";
export const INVENTORY_FILE = "inventory.json";

export interface SlotInventory {
  slot: string;
  /** Whether the current configuration names the slot (a slot only the data names was removed from it). */
  configured: boolean;
  backend: string | null;
  default: boolean;
  /** Where the slot's key material is; never the material itself. */
  key_material: string;
  /** The key file's check value as the database recorded it (local slots): the right file reproduces it. */
  key_check: string | null;
  /** The KEKs the data references at this slot (ids, not keys). */
  kek_ids: string[];
  holds: { plain_versions: number; mpc_shares: number; signing_keys: number; audit_chain_keys: number };
}

export interface Inventory {
  format: 1;
  created_at: string;
  server_version: string;
  database: { kind: "postgres" | "pglite"; file: string };
  slots: SlotInventory[];
  /** What no backup of the server holds, by design. */
  outside_the_server: { client_custody_versions: number; cmek_versions: number; note: string };
}

function prepareOut(out: string): string {
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (readdirSync(dir).length > 0) throw new BackupError(`${dir} is not empty: name a new folder for the backup`);
  return dir;
}

/** pg_dump of DATABASE_URL; the password travels in PGPASSWORD, not on the command line. */
async function dumpPostgres(databaseUrl: string, file: string): Promise<void> {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = "";
  await new Promise<void>((done, fail) => {
    const child = spawn("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", `--file=${file}`, `--dbname=${url.toString()}`], {
      env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => fail(new BackupError(`cannot run pg_dump (install postgresql-client): ${error.message}`)));
    child.on("close", (code) => (code === 0 ? done() : fail(new BackupError(`pg_dump failed: ${stderr.trim().replaceAll(password || "\u0000", "***")}`))));
  });
}

async function inventorySlots(db: Pick<Database, "query">, deployment: Deployment): Promise<SlotInventory[]> {
  const counts = await db.query<{ slot: string; kek_id: string | null; plain_versions: number; mpc_shares: number; signing_keys: number; audit_chain_keys: number }>(
    `SELECT slot, kek_id, sum(plain)::int AS plain_versions, sum(share)::int AS mpc_shares, sum(signing)::int AS signing_keys,
            sum(chain)::int AS audit_chain_keys FROM (
       SELECT kek_slot AS slot, kek_id, 0 AS plain, 0 AS share, 0 AS signing, 0 AS chain FROM vaults
       UNION ALL SELECT kek_slot, kek_id, 1, 0, 0, 0 FROM secret_versions WHERE wrapped_dek IS NOT NULL
       UNION ALL SELECT provider, kek_id, 0, 0, 0, 0 FROM vault_mpc_keks
       UNION ALL SELECT provider, kek_id, 0, 1, 0, 0 FROM secret_dek_shares
       UNION ALL SELECT kek_slot, kek_id, 0, 0, 1, 0 FROM signing_keys
       UNION ALL SELECT kek_slot, kek_id, 0, 0, 0, 1 FROM audit_chain_keys
     ) refs WHERE slot IS NOT NULL GROUP BY slot, kek_id ORDER BY slot, kek_id`,
  );
  const checks = new Map(
    (await db.query<{ slot: string; key_check: Uint8Array }>("SELECT slot, key_check FROM provider_key_checks")).map((row) => [row.slot, Buffer.from(row.key_check).toString("hex")]),
  );
  const slots = new Map<string, SlotInventory>();
  const entry = (slot: string): SlotInventory => {
    let found = slots.get(slot);
    if (!found) {
      const configured = deployment.slots.find((s) => s.slot === slot);
      const keyFile = configured?.backend.keyFile?.(configured.config);
      found = {
        slot,
        configured: configured !== undefined,
        backend: configured?.backend.name ?? null,
        default: deployment.defaultProvider === slot,
        key_material: !configured
          ? "not in the current configuration: the key material this slot had"
          : keyFile
            ? `the key file ${keyFile} (not in this backup: keep a copy apart from it)`
            : configured.backend.name === "pkcs11"
              ? `the token ${configured.backend.trustDomain(configured.config)} and the KEKs below in it`
              : `the KEKs below, at ${configured.backend.name} (they never leave it: keep them, and do not schedule their deletion)`,
        key_check: checks.get(slot) ?? null,
        kek_ids: [],
        holds: { plain_versions: 0, mpc_shares: 0, signing_keys: 0, audit_chain_keys: 0 },
      };
      slots.set(slot, found);
    }
    return found;
  };
  for (const { slot } of deployment.slots) entry(slot);
  for (const row of counts) {
    const inventory = entry(row.slot);
    if (row.kek_id !== null && !inventory.kek_ids.includes(row.kek_id)) inventory.kek_ids.push(row.kek_id);
    inventory.holds.plain_versions += row.plain_versions;
    inventory.holds.mpc_shares += row.mpc_shares;
    inventory.holds.signing_keys += row.signing_keys;
    inventory.holds.audit_chain_keys += row.audit_chain_keys;
  }
  return [...slots.values()];
}

async function outsideTheServer(db: Pick<Database, "query">): Promise<Inventory["outside_the_server"]> {
  const [row] = await db.query<{ client_versions: number; cmek_versions: number }>(
    `SELECT (SELECT count(*) FROM secret_versions s JOIN vaults v ON v.id = s.vault_id
              WHERE v.mpc_custody = ANY($1) AND s.deleted_at IS NULL)::int AS client_versions,
            (SELECT count(*) FROM secret_versions WHERE cmek_fingerprint IS NOT NULL AND deleted_at IS NULL)::int AS cmek_versions`,
    [CLIENT_CUSTODY_MODE_NAMES],
  );
  return {
    client_custody_versions: row!.client_versions,
    cmek_versions: row!.cmek_versions,
    note: "client-custody versions also need their clients' shares, and CMEK values their clients' keys: no server backup holds them",
  };
}

export async function backup(settings: Settings, deployment: Deployment, out: string): Promise<{ dir: string; inventory: Inventory }> {
  const dir = prepareOut(out);
  const write = async (db: Pick<Database, "query">, kind: Inventory["database"]["kind"], file: string): Promise<Inventory> => {
    const inventory: Inventory = {
      format: 1,
      created_at: new Date().toISOString(),
      server_version: SERVER_VERSION,
      database: { kind, file },
      slots: await inventorySlots(db, deployment),
      outside_the_server: await outsideTheServer(db),
    };
    writeFileSync(join(dir, INVENTORY_FILE), `${JSON.stringify(inventory, null, 2)}\n`, { mode: 0o600 });
    return inventory;
  };
  if (settings.databaseUrl) {
    const db = await openPostgres(settings.databaseUrl, 1);
    try {
      await dumpPostgres(settings.databaseUrl, join(dir, PG_DUMP_FILE));
      return { dir, inventory: await write(db, "postgres", PG_DUMP_FILE) };
    } finally {
      await db.close();
    }
  }
  const lock = acquireFolderLock(settings.dataDir);
  try {
    const pglite = await PGlite.create(pgliteDataDir(settings.dataDir));
    try {
      const dump = await pglite.dumpDataDir("gzip");
      writeFileSync(join(dir, PGLITE_DUMP_FILE), Buffer.from(await dump.arrayBuffer()), { mode: 0o600 });
      const db = { query: async <T>(sql: string, params: unknown[] = []) => (await pglite.query<T>(sql, params)).rows };
      return { dir, inventory: await write(db, "pglite", PGLITE_DUMP_FILE) };
    } finally {
      await pglite.close();
    }
  } finally {
    lock.release();
  }
}
