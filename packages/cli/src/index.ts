/** @shardvault/cli as a library: run the command line in-process (the `shardvault` bin does this). */
export { run, helpText, VERSION } from "./cli.js";
export { EXIT, exitCodeFor } from "./errors.js";
export { configPath } from "./config.js";
