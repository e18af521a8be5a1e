/**
 * `src/api-types.ts` is generated from `@shardvault/api` (see scripts/generate-api-types.ts): this fails when a
 * schema changed and the file was not regenerated, so the published SDK's types never drift from the server's.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as api from "@shardvault/api";
import * as sdk from "@shardvault/sdk";
import { generateApiTypes, OUTPUT } from "../scripts/generate-api-types.js";

test("src/api-types.ts is what the generator makes of @shardvault/api today (npm run generate -w @shardvault/sdk)", () => {
  assert.equal(readFileSync(OUTPUT, "utf8"), generateApiTypes());
});

test("the SDK's vocabularies are the API's", () => {
  for (const name of ["KNOWN_SECRET_TYPES", "CUSTODY_MODE_NAMES", "MPC_CUSTODY_VALUES", "CHARSET_NAMES", "AUDIT_ACTIONS", "ROLES", "SCOPES", "POLICY_PERMISSIONS"] as const) {
    assert.deepEqual(sdk[name], api[name], name);
  }
});
