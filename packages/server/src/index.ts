export { readSettings, type Settings } from "./config/env.js";
export { startServer, type RunningServer } from "./server.js";
export { consoleLogger, type Logger } from "./log.js";
