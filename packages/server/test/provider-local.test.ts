import assert from "node:assert/strict";
import { mkdtempSync, statSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLocalProvider } from "../src/providers/local.js";
import { describeProviderConformance } from "./support/provider-conformance.js";

describeProviderConformance("local", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv-local-"));
  return { provider: createLocalProvider("gcp", join(dir, "keys", "gcp.key")), cleanup: async () => rmSync(dir, { recursive: true }) };
});

test("the local provider creates its key file with mode 0600 and reuses it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv-local-"));
  const keyFile = join(dir, "keys", "aws.key");
  const first = createLocalProvider("aws", keyFile);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const before = readFileSync(keyFile);
  const kek = await first.createKek("v");
  const wrapped = await first.wrap(kek, Buffer.from("dek"), Buffer.from("aad"));
  const second = createLocalProvider("aws", keyFile);
  assert.deepEqual(readFileSync(keyFile), before);
  assert.equal(Buffer.from(await second.unwrap(kek, wrapped, Buffer.from("aad"))).toString(), "dek");
  rmSync(dir, { recursive: true });
});
