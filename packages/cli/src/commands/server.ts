/** `shardvault server`: the vault server, exactly as `npm start` runs it (settings from the environment). */
import { args, type Context } from "../context.js";
import { CliError, EXIT } from "../errors.js";

export async function server(ctx: Context): Promise<void> {
  args(ctx, []);
  // Loaded only for this command: the server's dependencies are heavy, every other command talks HTTP, and
  // an installed CLI may come without it (an optional peer dependency).
  let serverPackage: typeof import("@shardvault/server");
  try {
    serverPackage = await import("@shardvault/server");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes("'@shardvault/server'");
    if (!missing) throw error;
    throw new CliError("the server is not installed with this command line: install @shardvault/server beside it (npm install -g @shardvault/server), or run `npm start` in a Shardvault checkout", EXIT.ERROR);
  }
  const { createLogger, readSettings, startServer } = serverPackage;
  let running: Awaited<ReturnType<typeof startServer>>;
  let log: ReturnType<typeof createLogger>;
  try {
    const settings = readSettings();
    log = createLogger(settings.logLevel);
    running = await startServer(settings, log);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.ERROR);
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal} received: finishing in-flight requests`);
      await running.close();
      log.info("stopped");
      resolve();
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
  });
}
