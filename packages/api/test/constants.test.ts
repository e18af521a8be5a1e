/**
 * The API's closed vocabularies (which the server's request validation and the OpenAPI document use) say
 * the same as the server's domain, which keeps its own copies next to the code that gives them meaning.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AUDIT_ACTIONS, CHARSET_NAMES, CUSTODY_MODE_NAMES, MPC_CUSTODY_VALUES, SECRET_TYPES } from "@shardvault/api";
import { AUDIT_ACTIONS as SERVER_AUDIT_ACTIONS } from "../../server/src/audit/audit.js";
import { CUSTODY_MODE_NAMES as SERVER_MODES, MPC_CUSTODY_VALUES as SERVER_MPC_VALUES } from "../../server/src/mpc/modes.js";
import { CHARSETS } from "../../server/src/secrets/generate.js";
import { SECRET_TYPES as SERVER_SECRET_TYPES } from "../../server/src/secrets/secret-service.js";

test("the API's vocabularies are the server's", () => {
  assert.deepEqual([...SECRET_TYPES], [...SERVER_SECRET_TYPES]);
  assert.deepEqual([...CUSTODY_MODE_NAMES], [...SERVER_MODES]);
  assert.deepEqual([...MPC_CUSTODY_VALUES], [...SERVER_MPC_VALUES]);
  assert.deepEqual([...CHARSET_NAMES], Object.keys(CHARSETS));
  assert.deepEqual([...AUDIT_ACTIONS], [...SERVER_AUDIT_ACTIONS]);
});
