/**
 * Operational messages and request logs: JSON lines on standard output through pino (Fastify's logger), one
 * object per line with `level`, `time` (ISO 8601) and `msg`. Nothing secret is ever passed here: no value, key,
 * share or token. `raw` writes a plain line instead: the start-up summary for the operator (server.ts) and the
 * bootstrap admin key, printed once on purpose.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  raw(line: string): void;
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A Logger whose JSON side is a pino logger, handed to Fastify so that request logs share it. */
export interface ServerLogger extends Logger {
  readonly pino: PinoLogger;
}

export function createLogger(level: LogLevel = "info", destination: DestinationStream = pino.destination({ dest: 1, sync: true })): ServerLogger {
  const logger = pino(
    {
      level,
      base: undefined, // no pid/hostname on every line; the process is the deployment's to name
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return {
    pino: logger,
    info: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
    raw: (line) => destination.write(`${line}\n`),
  };
}

/** JSON at level info, on standard output. */
export const consoleLogger: ServerLogger = createLogger();
