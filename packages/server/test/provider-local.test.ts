import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, statSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLocalProvider } from "../src/providers/local.js";
import { ProviderError } from "../src/providers/provider.js";
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

test("a key file deleted after the slot's first use is not replaced: the slot reports unavailable and refuses every call", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv-local-"));
  const keyFile = join(dir, "keys", "gcp.key");
  const first = createLocalProvider("gcp", keyFile);
  assert.match(readFileSync(`${keyFile}.kcv`, "utf8"), /^[0-9a-f]{64}\n$/);
  const kek = await first.createKek("v");
  const wrapped = await first.wrap(kek, Buffer.from("dek"), Buffer.from("aad"));
  rmSync(keyFile);
  const lost = createLocalProvider("gcp", keyFile);
  assert.equal(existsSync(keyFile), false, "a fresh key was made in place of the destroyed one");
  const health = await lost.health();
  assert.equal(health.status, "unavailable");
  assert.match(health.detail!, /key file is missing/);
  const unavailable = (e: unknown) => e instanceof ProviderError && e.kind === "unavailable";
  await assert.rejects(lost.unwrap(kek, wrapped, Buffer.from("aad")), unavailable);
  await assert.rejects(lost.wrap(kek, Buffer.from("dek"), Buffer.from("aad")), unavailable);
  await assert.rejects(lost.createKek("v"), unavailable);
  rmSync(dir, { recursive: true });
});

test("a key file swapped for another key is not used; a key file from before key check values gets one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sv-local-"));
  const keyFile = join(dir, "keys", "aws.key");
  createLocalProvider("aws", keyFile);
  writeFileSync(keyFile, randomBytes(32));
  const swapped = createLocalProvider("aws", keyFile);
  assert.equal((await swapped.health()).status, "unavailable");
  assert.match((await swapped.health()).detail!, /does not match/);
  await assert.rejects(swapped.createKek("v"), (e: unknown) => e instanceof ProviderError && e.kind === "unavailable");

  rmSync(`${keyFile}.kcv`);
  const adopted = createLocalProvider("aws", keyFile);
  assert.equal((await adopted.health()).status, "ok");
  assert.ok(existsSync(`${keyFile}.kcv`));
  const kek = await adopted.createKek("v");
  assert.equal(Buffer.from(await adopted.unwrap(kek, await adopted.wrap(kek, Buffer.from("k"), Buffer.from("a")), Buffer.from("a"))).toString(), "k");
  rmSync(dir, { recursive: true });
});
