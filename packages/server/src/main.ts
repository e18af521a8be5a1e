#!/usr/bin/env node
/** `npm start`: runs the vault server until SIGTERM or SIGINT; with arguments, one of the server's commands (ops/). */
import { readSettings, SettingsError } from "./config/env.js";
import { FolderLockedError } from "./db/folder-lock.js";
import { createLogger } from "./log.js";
import { runOpsCommand } from "./ops/commands.js";
import { ConfigError } from "./providers/backend.js";
import { ProviderError } from "./providers/provider.js";
import { startServer, type RunningServer } from "./server.js";

/** A start that fails says why in one human line, like the rest of the start-up summary. */
function fail(error: unknown): never {
  const known = error instanceof SettingsError || error instanceof ConfigError || error instanceof FolderLockedError || error instanceof ProviderError;
  console.error(`[shardvault] ERROR: ${known ? "" : "start-up failed: "}${(error as Error).message}`);
  process.exit(1);
}

if (process.argv.length > 2) process.exit(await runOpsCommand(process.argv.slice(2)));

let starting: Promise<RunningServer>;
let stopping = false;
let settings: ReturnType<typeof readSettings>;
try {
  settings = readSettings();
} catch (error) {
  fail(error);
}
const log = createLogger(settings.logLevel);
// Installed before the server listens, so a signal right after the "listening" line still stops it gracefully.
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  const server = await starting.catch(() => undefined);
  if (!server) return; // start-up failed: its own handler reports and exits
  log.info(`${signal} received: finishing in-flight requests`);
  await server.close();
  log.info("stopped");
  process.exit(0);
};
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));

try {
  starting = startServer(settings, log);
  await starting;
} catch (error) {
  fail(error);
}
