/**
 * The scale-out drill (drill/ha.ts, also `npm run drill:ha`): three instances on one PostgreSQL behind nginx,
 * one killed with kill -9 half-way through mixed reads and writes. Every acknowledged write reads back at its
 * version, no version number is answered twice, only requests in flight at the kill may fail, and the
 * survivors accept a token the dead instance issued. Needs Debian's nginx (`.ci/run` installs it).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { describeFigures, NGINX, runHaDrill } from "../drill/ha.js";
import { postgresSkipReason } from "./support/postgres.js";

function nginxSkipReason(): string | false {
  if (existsSync(NGINX)) return false;
  const message = `${NGINX} is missing: apt-get install nginx`;
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: failing instead of skipping)`);
  return message;
}

describe("scale-out drill behind nginx", { skip: (await postgresSkipReason()) || nginxSkipReason() }, () => {
  test("kill -9 of one of three instances mid-load: no acknowledged write lost, errors only in flight at the kill", async (t) => {
    const figures = await runHaDrill({ operations: 1500, clients: 8 });
    for (const line of describeFigures(figures)) t.diagnostic(line);
    assert.equal(figures.requests, 1500);
    assert.ok(figures.writes > 0 && figures.reads > 0);
    assert.equal(figures.lostWrites, 0, "acknowledged writes lost");
    assert.equal(figures.duplicateVersions, 0, "a version number answered to two writes");
    assert.deepEqual([figures.errors.beforeKill, figures.errors.afterKill], [0, 0], "errors on requests not in flight at the kill");
    assert.ok(figures.errors.inFlightAtKill <= figures.inFlightAtKill);
    assert.equal(figures.survivorsAcceptingDeadInstanceToken, figures.survivors, "a survivor refused the dead instance's token");
  });
});
