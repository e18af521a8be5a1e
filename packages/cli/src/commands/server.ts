/** `shardvault server`: the vault server, exactly as `npm start` runs it (settings from the environment). */
import { args, type Context } from "../context.js";
import { CliError, EXIT } from "../errors.js";

export async function server(ctx: Context): Promise<void> {
  args(ctx, []);
  // Loaded only for this command: the server's dependencies are heavy, every other command talks HTTP.
  const { consoleLogger: log, readSettings, startServer } = await import("@shardvault/server");
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(readSettings(), log);
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
