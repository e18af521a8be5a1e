/**
 * The commands that run on the server's machine, with the server's settings (from the environment): `shardvault
 * server`, exactly as `npm start` runs it; `admin create-key` and `backup`, the server's own commands.
 */
import { args, str, type Context } from "../context.js";
import { CliError, EXIT } from "../errors.js";

/**
 * The server package, loaded only for the commands that run on the server's machine: its dependencies are
 * heavy, every other command talks HTTP, and an installed CLI may come without it (an optional peer dependency).
 */
export async function serverPackage(): Promise<typeof import("@shardvault/server")> {
  try {
    return await import("@shardvault/server");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String((error as Error).message).includes("'@shardvault/server'");
    if (!missing) throw error;
    throw new CliError("the server is not installed with this command line: install @shardvault/server beside it (npm install -g @shardvault/server), or run `npm start` in a Shardvault checkout", EXIT.ERROR);
  }
}

export async function server(ctx: Context): Promise<void> {
  args(ctx, []);
  const { createLogger, readSettings, startServer } = await serverPackage();
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

/** `admin create-key` and `backup`: run by the server package (its ops/commands.ts), which prints and answers the exit code. */
export const opsCommands = {
  async "admin create-key"(ctx: Context): Promise<number> {
    args(ctx, []);
    const email = str(ctx.options, "email");
    return (await serverPackage()).runOpsCommand(["admin", "create-key", ...(email === undefined ? [] : ["--email", email])]);
  },
  async backup(ctx: Context): Promise<number> {
    args(ctx, []);
    const out = str(ctx.options, "out");
    if (out === undefined) throw new CliError("backup needs --out DIR", EXIT.USAGE);
    return (await serverPackage()).runOpsCommand(["backup", "--out", out]);
  },
};
