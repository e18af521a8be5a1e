/**
 * The server's own commands, run on its machine with its settings (the same environment and SHARDVAULT_CONFIG
 * as the server): `admin create-key [--email EMAIL]` and `backup --out DIR`. `node packages/server/dist/main.js
 * <command>` runs them, and so does `shardvault <command>` where the CLI has the server beside it. They print
 * plain lines; the exit code is 0, 1 (failed) or 2 (usage).
 */
import { parseArgs } from "node:util";
import { loadDeployment } from "../config/deployment.js";
import { readSettings, SettingsError } from "../config/env.js";
import { FolderLockedError } from "../db/folder-lock.js";
import { openPglite } from "../db/pglite.js";
import { openPostgres } from "../db/postgres.js";
import type { Logger } from "../log.js";
import { ConfigError } from "../providers/backend.js";
import { AdminKeyError, createOwnerKey } from "./admin-key.js";
import { backup, BackupError } from "./backup.js";

export const OPS_USAGE = [
  "admin create-key [--email EMAIL]   a new API key for an owner (audited), shown once",
  "backup --out DIR                   the database, and an inventory of the key material it needs",
];

const say = (line: string) => console.log(`[shardvault] ${line}`);
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, raw: () => undefined };

async function createKey(email: string | undefined): Promise<void> {
  const settings = readSettings();
  const db = settings.databaseUrl ? await openPostgres(settings.databaseUrl, 1) : await openPglite(settings.dataDir);
  try {
    const issued = await createOwnerKey(db, email === undefined ? {} : { email });
    say(`a new API key for the owner ${issued.owner} (user ${issued.userId}, key ${issued.keyId}); recorded in the audit log as api_key.create`);
    // Printed once, like the first start's key: the operator asked for it.
    console.log(`Owner API key (shown once): ${issued.apiKey}`);
  } finally {
    await db.close();
  }
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
