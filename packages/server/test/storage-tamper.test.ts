/**
 * Tampering with stored bytes (PostgreSQL, edited with SQL under a running server): flipping any byte of a
 * version's ciphertext (version byte, IV, body, tag), wrapped DEK or DEK commitment makes its read refuse with
 * 500 and a specific code, never a value; so does moving a version's sealed bytes to another version or path,
 * or editing the row's path or version.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertJsonLogs, assertNoLeak, assertProblem, secretValue, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";

const SEALED_COLUMNS = ["ciphertext", "wrapped_dek", "dek_commitment"] as const;
type SealedColumn = (typeof SEALED_COLUMNS)[number];
/** The code a read must refuse with when that column was changed. */
const EXPECTED_CODE: Record<SealedColumn, string> = {
  ciphertext: "ciphertext_corrupt",
  wrapped_dek: "wrapped_dek_corrupt",
  dek_commitment: "dek_commitment_mismatch",
};
const INTEGRITY_CODES = new Set(Object.values(EXPECTED_CODE));

describe("storage-tamper on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  let vaultId: string;
  let otherVaultId: string;
  const secrets: string[] = [];
  const values = new Map<string, string>();
  const s = (path: string, vault = vaultId) => `/v1/vaults/${vault}/secrets/${path}`;

  async function write(path: string, vault = vaultId): Promise<string> {
    const value = secretValue("tamper");
    secrets.push(value);
    const res = await admin.put(s(path, vault), { value });
    assert.equal(res.status, 201, res.text);
    values.set(`${vault}/${path}/${res.body.version}`, value);
    return value;
  }

  async function row(path: string, version: number, vault = vaultId) {
    const res = await sql.query<Record<SealedColumn, Buffer> & { id: string }>(
      "SELECT id, ciphertext, wrapped_dek, dek_commitment FROM secret_versions WHERE vault_id = $1 AND path = $2 AND version = $3",
      [vault, path, version],
    );
    assert.equal(res.rowCount, 1);
    return res.rows[0]!;
  }

  async function setColumn(id: string, column: SealedColumn, bytes: Buffer) {
    await sql.query(`UPDATE secret_versions SET ${column} = $2 WHERE id = $1`, [id, bytes]);
  }

  /** Reads a version over HTTP and asserts a refusal: 500, an integrity code (the given one if any), no value. */
  async function assertRefused(path: string, version: number, code?: string, vault = vaultId, context = "") {
    const res = await admin.get(`${s(path, vault)}?version=${version}`);
    assert.ok(!("value" in (res.body ?? {})), `${context}: a tampered read returned a value`);
    for (const v of values.values()) assert.ok(!res.text.includes(v), `${context}: a value appears in the refusal`);
    assertProblem(res, 500, code ?? res.body?.code, /integrity/, context);
    assert.ok(INTEGRITY_CODES.has(res.body.code), `${context}: code ${res.body.code}`);
    return res.body.code as string;
  }

  async function assertReads(path: string, version: number, vault = vaultId) {
    const res = await admin.get(`${s(path, vault)}?version=${version}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.value, values.get(`${vault}/${path}/${version}`));
  }

  before(async () => {
    deployment = await deploy("postgres", { env: { SHARDVAULT_LOG_LEVEL: "trace" } });
    secrets.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    vaultId = (await admin.post("/v1/vaults", { name: "tamper" })).body.id;
    otherVaultId = (await admin.post("/v1/vaults", { name: "tamper-other" })).body.id;
    sql = await connect(deployment.database!.url);
    await write("tamper/target");
    await write("tamper/target");
    await write("tamper/other");
    await write("tamper/target", otherVaultId);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  for (const column of SEALED_COLUMNS) {
    test(`flipping each byte of ${column} refuses the read with ${EXPECTED_CODE[column]}`, async () => {
      const original = (await row("tamper/target", 1))[column];
      const { id } = await row("tamper/target", 1);
      if (column === "ciphertext") assert.equal(original[0], 1, "crypto format 1");
      assert.ok(original.length >= 32, `${column} is ${original.length} bytes`);
      const wrongCodes: string[] = [];
      for (let i = 0; i < original.length; i++) {
        const tampered = Buffer.from(original);
        tampered[i]! ^= 0xff;
        await setColumn(id, column, tampered);
        const code = await assertRefused("tamper/target", 1, undefined, vaultId, `${column} byte ${i}`);
        if (code !== EXPECTED_CODE[column]) wrongCodes.push(`byte ${i}: ${code}`);
      }
      // Truncated, extended and emptied.
      for (const [why, bytes] of [
        ["truncated by one", original.subarray(0, original.length - 1)],
        ["extended by one", Buffer.concat([original, Buffer.from([0])])],
        ["empty", Buffer.alloc(0)],
      ] as const) {
        await setColumn(id, column, Buffer.from(bytes));
        const code = await assertRefused("tamper/target", 1, undefined, vaultId, `${column} ${why}`);
        if (code !== EXPECTED_CODE[column]) wrongCodes.push(`${why}: ${code}`);
      }
      await setColumn(id, column, original);
      assert.deepEqual(wrongCodes, [], `${column}: reads refused with another code than ${EXPECTED_CODE[column]}`);
      // Restored: it reads again, and the untouched version next to it read all along.
      await assertReads("tamper/target", 1);
      await assertReads("tamper/target", 2);
    });
  }

  test("a version's sealed bytes moved to another version, path or vault do not open there", async () => {
    const source = await row("tamper/target", 1);
    const targets: Array<[string, number, string, string]> = [
      ["tamper/target", 2, vaultId, "another version of the same path"],
      ["tamper/other", 1, vaultId, "another path"],
      ["tamper/target", 1, otherVaultId, "the same path and version in another vault"],
    ];
    for (const [path, version, vault, why] of targets) {
      const target = await row(path, version, vault);
      for (const column of SEALED_COLUMNS) await setColumn(target.id, column, source[column]);
      await assertRefused(path, version, undefined, vault, `moved to ${why}`);
      for (const column of SEALED_COLUMNS) await setColumn(target.id, column, target[column]);
      await assertReads(path, version, vault);
    }
    // Only the wrapped DEK and commitment moved (own ciphertext kept): still refused.
    const target = await row("tamper/target", 2);
    await setColumn(target.id, "wrapped_dek", source.wrapped_dek);
    await setColumn(target.id, "dek_commitment", source.dek_commitment);
    await assertRefused("tamper/target", 2, undefined, vaultId, "wrapped DEK and commitment of another version");
    await setColumn(target.id, "wrapped_dek", target.wrapped_dek);
    await setColumn(target.id, "dek_commitment", target.dek_commitment);
    await assertReads("tamper/target", 2);
  });

  test("editing a row's path or version (moving the row itself) makes its read fail", async () => {
    const source = await row("tamper/other", 1);
    await sql.query("UPDATE secret_versions SET path = 'tamper/moved' WHERE id = $1", [source.id]);
    await assertRefused("tamper/moved", 1, undefined, vaultId, "row moved to another path");
    const latest = await admin.get(s("tamper/moved"));
    assert.equal(latest.status, 500, latest.text);
    assert.ok(!("value" in (latest.body ?? {})));
    await sql.query("UPDATE secret_versions SET path = 'tamper/other' WHERE id = $1", [source.id]);
    await assertReads("tamper/other", 1);

    await sql.query("UPDATE secret_versions SET version = 7 WHERE id = $1", [source.id]);
    await assertRefused("tamper/other", 7, undefined, vaultId, "row moved to another version");
    await sql.query("UPDATE secret_versions SET version = 1 WHERE id = $1", [source.id]);
    await assertReads("tamper/other", 1);

    // The row moved into another vault.
    await sql.query("UPDATE secret_versions SET vault_id = $2, path = 'tamper/from-elsewhere' WHERE id = $1", [source.id, otherVaultId]);
    await assertRefused("tamper/from-elsewhere", 1, undefined, otherVaultId, "row moved to another vault");
    await sql.query("UPDATE secret_versions SET vault_id = $2, path = 'tamper/other' WHERE id = $1", [source.id, vaultId]);
    await assertReads("tamper/other", 1);
  });

  test("the server's output holds no secret value and no API key", async () => {
    const exit = await deployment.server.stop();
    assert.equal(exit.code, 0);
    // The JSON logs (at trace level: everything the server logs) are read too, their request lines included.
      const requests = assertJsonLogs(deployment.server.output());
      assert.ok(requests.length > 10, `request lines are logged (${requests.length})`);
      assertNoLeak(deployment.server.output(), secrets);
  });
});
