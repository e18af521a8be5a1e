#!/usr/bin/env node
// The `shardvault` command. A checked-in file (executable in git), so the bin works right after
// `npm ci` links it, before and after `tsc -b` builds dist/.
import "../dist/main.js";
