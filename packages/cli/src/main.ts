#!/usr/bin/env node
/** The `shardvault` command (see `shardvault --help`). */
import { run } from "./cli.js";

process.exitCode = await run(process.argv.slice(2));
