/**
 * The HTTP benchmark's baseline: the built server exactly as `npm start` runs it, except that audit events are
 * written without the hash chain (one INSERT per batch, as before the chain). Only `npm run bench:http` starts
 * it; no setting of the server reaches this option.
 */
import { consoleLogger, readSettings, startServer } from "../dist/index.js";

const server = await startServer(readSettings(), consoleLogger, { unchainedAuditForBenchmark: true });
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
