/**
 * The server's own commands, run on its machine with its settings (the same environment and SHARDVAULT_CONFIG
 * as the server): `admin create-key [--email EMAIL]` and `backup --out DIR`. `node packages/server/dist/main.js
 * <command>` runs them, and so does `shardvault <command>` where the CLI has the server beside it. They print
 * plain lines; the exit code is 0, 1 (failed) or 2 (usage).
 */
import { parseArgs } from "node:util";
import { createAuditLog, type AuditLog } from "../audit/audit.js";
import { loadAuditChainKey } from "../audit/chain-key.js";
import { buildProviders, loadDeployment } from "../config/deployment.js";
import { unusableKeyFiles } from "../config/key-files.js";
import { readSettings, SettingsError } from "../config/env.js";
import type { Database } from "../db/database.js";
import { FolderLockedError } from "../db/folder-lock.js";
import { openPglite } from "../db/pglite.js";
import { openPostgres } from "../db/postgres.js";
import type { Logger } from "../log.js";
import { ConfigError } from "../providers/backend.js";
import type { ProviderRegistry } from "../providers/registry.js";
import { AdminKeyError, createOwnerKey } from "./admin-key.js";
import { backup, BackupError } from "./backup.js";

export const OPS_USAGE = [
  "admin create-key [--email EMAIL]   a new API key for an owner (audited), shown once",
  "backup --out DIR                   the database, and an inventory of the key material it needs",
];

const say = (line: string) => console.log(`[shardvault] ${line}`);
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, raw: () => undefined };

/**
 * The database with the deployment's providers and the audit chain key, as a started server has them (the
 * providers unwrap the chain key). A slot whose key file is missing or wrong stands in as unavailable, as at
 * start-up; no check value is recorded here.
 */
async function withServerState<T>(fn: (db: Database, audit: AuditLog) => Promise<T>): Promise<T> {
  const settings = readSettings();
  const deployment = loadDeployment(settings, process.env, quiet);
  const db = settings.databaseUrl ? await openPostgres(settings.databaseUrl, 2) : await openPglite(settings.dataDir);
  let providers: ProviderRegistry | undefined;
  try {
    const [started] = await db.query("SELECT 1 FROM bootstrap").catch(() => []);
    if (!started) throw new AdminKeyError("this database has no organization yet: start the server once, it creates the first owner and its key");
    providers = await buildProviders(deployment, { env: process.env, log: quiet }, await unusableKeyFiles(db, deployment));
    const chainKey = await loadAuditChainKey(db, providers).catch((error: Error) => {
      throw new AdminKeyError(`the audit chain key cannot be read (${error.message}): start the server once with these settings`);
    });
    return await fn(db, createAuditLog(db, { key: chainKey }));
  } finally {
    await Promise.all((providers?.all() ?? []).map((p) => p.close().catch(() => undefined)));
    await db.close();
  }
}

async function createKey(email: string | undefined): Promise<void> {
  await withServerState(async (db, audit) => {
    const issued = await createOwnerKey(db, audit, email === undefined ? {} : { email });
    say(`a new API key for the owner ${issued.owner} (user ${issued.userId}, key ${issued.keyId}); recorded in the audit log as api_key.create`);
    // Printed once, like the first start's key: the operator asked for it.
    console.log(`Owner API key (shown once): ${issued.apiKey}`);
  });
}

async function runBackup(out: string): Promise<void> {
  const settings = readSettings();
  const { dir, inventory } = await backup(settings, loadDeployment(settings, process.env, quiet), out);
  say(`backup in ${dir}: ${inventory.database.file} (${inventory.database.kind}) and inventory.json`);
  for (const slot of inventory.slots) {
    say(`slot ${slot.slot}${slot.default ? " (default)" : ""}: ${slot.kek_ids.length} KEK(s); needs ${slot.key_material}`);
  }
  const outside = inventory.outside_the_server;
  if (outside.client_custody_versions + outside.cmek_versions > 0) say(`not in any server backup: ${outside.note}`);
}

/** Runs `argv` (the words after main.js) as a command; answers the exit code. */
export async function runOpsCommand(argv: readonly string[]): Promise<number> {
  const [first, second] = argv;
  try {
    if (first === "admin" && second === "create-key") {
      const { values } = parseArgs({ args: argv.slice(2), options: { email: { type: "string" } }, strict: true, allowPositionals: false });
      await createKey(values.email);
      return 0;
    }
    if (first === "backup") {
      const { values } = parseArgs({ args: argv.slice(1), options: { out: { type: "string" } }, strict: true, allowPositionals: false });
      if (!values.out) throw new TypeError("backup needs --out DIR");
      await runBackup(values.out);
      return 0;
    }
    console.error(["usage: main.js                     run the server", ...OPS_USAGE.map((line) => `       main.js ${line}`)].join("\n"));
    return 2;
  } catch (error) {
    if (error instanceof TypeError) {
      console.error(`[shardvault] ERROR: ${error.message}`);
      return 2;
    }
    const known = [SettingsError, ConfigError, FolderLockedError, AdminKeyError, BackupError].some((kind) => error instanceof kind);
    console.error(`[shardvault] ERROR: ${known ? "" : "failed: "}${(error as Error).message}`);
    return 1;
  }
}
