#!/usr/bin/env node
/** `npm start`: runs the vault server until SIGTERM or SIGINT. */
import { readSettings, SettingsError } from "./config/env.js";
import { FolderLockedError } from "./db/folder-lock.js";
import { consoleLogger as log } from "./log.js";
import { ConfigError } from "./providers/backend.js";
import { ProviderError } from "./providers/provider.js";
import { startServer } from "./server.js";

try {
  const server = await startServer(readSettings(), log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: finishing in-flight requests`);
    await server.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
} catch (error) {
  if (error instanceof SettingsError || error instanceof ConfigError || error instanceof FolderLockedError || error instanceof ProviderError) {
    log.error(error.message);
  } else {
    log.error(`start-up failed: ${(error as Error).message}`);
  }
  process.exit(1);
}
