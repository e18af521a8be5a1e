export { readSettings, type Settings } from "./config/env.js";
export { startServer, type RunningServer } from "./server.js";
export { consoleLogger, createLogger, type Logger, type ServerLogger } from "./log.js";
export { runOpsCommand, OPS_USAGE } from "./ops/commands.js";
