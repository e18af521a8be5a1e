/**
 * Start-up and operational messages. Nothing secret is ever passed here: no value, key, share or token
 * (the bootstrap admin key, printed once on purpose, goes through `raw`).
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  raw(line: string): void;
}

export const consoleLogger: Logger = {
  info: (message) => console.log(`[shardvault] ${message}`),
  warn: (message) => console.warn(`[shardvault] WARNING: ${message}`),
  error: (message) => console.error(`[shardvault] ERROR: ${message}`),
  raw: (line) => console.log(line),
};
