#!/usr/bin/env node
/** `npm start`: runs the vault server until SIGTERM or SIGINT. */
import { readSettings, SettingsError } from "./config/env.js";
import { FolderLockedError } from "./db/folder-lock.js";
import { consoleLogger as log } from "./log.js";
import { ConfigError } from "./providers/backend.js";
import { ProviderError } from "./providers/provider.js";
import { startServer, type RunningServer } from "./server.js";

function fail(error: unknown): never {
  if (error instanceof SettingsError || error instanceof ConfigError || error instanceof FolderLockedError || error instanceof ProviderError) {
    log.error(error.message);
  } else {
    log.error(`start-up failed: ${(error as Error).message}`);
  }
  process.exit(1);
}

let starting: Promise<RunningServer>;
let stopping = false;
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
  starting = startServer(readSettings(), log);
  await starting;
} catch (error) {
  fail(error);
}
