/**
 * A database dump decrypts nothing. Every row of every table is copied out (PostgreSQL over SQL; PGlite by
 * stopping the server and opening its folder `<data dir>/pgdata` directly), and every byte string of 32 bytes
 * or more found in it is tried as key material against every stored ciphertext and wrapped key, with empty
 * associated data and with the correct associated data recomputed (src/envelope/contexts.ts). Nothing opens.
 *
 * Positive control: the same procedure, given the local providers' key files (`<data dir>/keys/*.key`) as
 * well, unwraps the DEKs and recovers every value, which proves the procedure would find a key if the dump
 * held one.
 */
import assert from "node:assert/strict";
import { hkdfSync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { deriveValueKey, encodeContext, open } from "@shardvault/crypto";
import { api, assertJsonLogs, assertNoLeak, DATABASE_KINDS, secretValue } from "./support/harness.js";
import { deploy, skipReasonFor, withClient, type Deployment } from "./support/postgres.js";

type Row = Record<string, unknown>;
/** Every row of every table, by table name. */
type Dump = Record<string, Row[]>;

const TABLES_SQL = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name";

async function dumpPostgres(url: string): Promise<Dump> {
  return withClient(url, async (c) => {
    const dump: Dump = {};
    for (const { table_name } of (await c.query<{ table_name: string }>(TABLES_SQL)).rows) {
      dump[table_name] = (await c.query(`SELECT * FROM "${table_name}"`)).rows;
    }
    return dump;
  });
}

async function dumpPglite(dir: string): Promise<Dump> {
  const db = new PGlite(dir);
  try {
    await db.waitReady;
    const dump: Dump = {};
    for (const { table_name } of (await db.query<{ table_name: string }>(TABLES_SQL)).rows) {
      dump[table_name] = (await db.query<Row>(`SELECT * FROM "${table_name}"`)).rows;
    }
    return dump;
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// The procedure

const bytesOf = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? v : undefined);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Every byte string a value holds: bytes as they are; strings as UTF-8 and, where they parse, decoded from hex or base64. */
function byteStrings(value: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean" || value instanceof Date) return out;
  if (value instanceof Uint8Array) {
    out.push(value);
  } else if (typeof value === "string") {
    out.push(Buffer.from(value, "utf8"));
    const h = value.startsWith("\\x") ? value.slice(2) : value;
    if (h.length >= 64 && h.length % 2 === 0 && /^[0-9a-f]+$/i.test(h)) out.push(Buffer.from(h, "hex"));
    if (value.length >= 43 && /^[A-Za-z0-9+/_-]+=*$/.test(value)) {
      out.push(Buffer.from(value, "base64"), Buffer.from(value, "base64url"));
    }
  } else if (Array.isArray(value)) {
    for (const item of value) byteStrings(item, out);
  } else if (typeof value === "object") {
    for (const item of Object.values(value as object)) byteStrings(item, out);
  }
  return out;
}

/** Every 32-byte window of every byte string of 32 bytes or more: the AES-256 key candidates. */
function keyCandidates(strings: Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const s of strings) {
    for (let at = 0; at + 32 <= s.length; at++) {
      const window = s.subarray(at, at + 32);
      seen.set(hex(window), window);
    }
  }
  return [...seen.values()];
}

/** A sealed blob found in the dump, with the associated data it may be bound to. */
interface Blob {
  label: string;
  kind: "value" | "wrapped-key";
  sealed: Uint8Array;
  aads: Uint8Array[];
  /** The KEK reference a wrapped key names (the local provider derives that KEK from its master key). */
  kekId?: string;
}

const EMPTY = new Uint8Array(0);

/** The associated data the server binds to, recomputed as src/envelope/contexts.ts builds it. */
const versionFields = (row: Row) => ({ format: 1, vault_id: String(row.vault_id), path: String(row.path), version: Number(row.version) });
const valueAad = (row: Row) => encodeContext({ purpose: "secret-value", ...versionFields(row) });
const wrapAad = (row: Row) =>
  encodeContext({
    purpose: "dek-wrap",
    ...versionFields(row),
    custody: "none",
    threshold: 1,
    providers: [String(row.kek_slot)],
    share_index: 0,
    slot: String(row.kek_slot),
    kek_id: String(row.kek_id),
  });
const signingKeyAad = (row: Row) => encodeContext({ purpose: "jwt-signing-key", format: 1, kid: String(row.kid), kek_id: String(row.kek_id) });

function sealedBlobs(dump: Dump): Blob[] {
  const blobs: Blob[] = [];
  const known = new Set<Uint8Array>();
  for (const row of dump.secret_versions ?? []) {
    const label = `${row.path} v${row.version}`;
    const ciphertext = bytesOf(row.ciphertext)!;
    blobs.push({ label: `${label} ciphertext`, kind: "value", sealed: ciphertext, aads: [EMPTY, valueAad(row)] });
    known.add(ciphertext);
    const wrapped = bytesOf(row.wrapped_dek);
    if (wrapped) {
      blobs.push({ label: `${label} wrapped_dek`, kind: "wrapped-key", sealed: wrapped, aads: [EMPTY, wrapAad(row)], kekId: String(row.kek_id) });
      known.add(wrapped);
    }
  }
  for (const row of dump.signing_keys ?? []) {
    const wrapped = bytesOf(row.wrapped_private_key)!;
    blobs.push({ label: `signing key ${row.kid}`, kind: "wrapped-key", sealed: wrapped, aads: [EMPTY, signingKeyAad(row)], kekId: String(row.kek_id) });
    known.add(wrapped);
  }
  // Any other byte column that looks like a sealed value (format byte 1, long enough): empty associated data.
  for (const [table, rows] of Object.entries(dump)) {
    for (const row of rows) {
      for (const [column, v] of Object.entries(row)) {
        const b = bytesOf(v);
        if (b && !known.has(b) && b.length >= 29 && b[0] === 1) blobs.push({ label: `${table}.${column}`, kind: "value", sealed: b, aads: [EMPTY] });
      }
    }
  }
  return blobs;
}

const kekFromMaster = (master: Uint8Array, kekId: string) =>
  new Uint8Array(hkdfSync("sha256", master, Buffer.alloc(0), `shardvault/local-provider/kek/v1/${kekId}`, 32));

interface Attempt {
  candidates: number;
  tries: number;
  /** Everything that opened: which blob, under which use of which candidate, and what came out. */
  opened: Array<{ blob: string; kind: Blob["kind"]; how: string; plaintext: Buffer }>;
}

/**
 * Tries every key candidate found in `dump` (plus `extraKeyMaterial`) on every sealed blob, three ways: as
 * the AES key itself, as a DEK (through the value-key derivation of envelope.ts), and as a local provider's
 * master key (through the KEK derivation of providers/local.ts, for the KEK id the wrapped blob names), each
 * with empty and with the recomputed associated data. Whatever 32-byte plaintext comes out of a wrapped key
 * joins the candidates (a DEK), until nothing new opens.
 */
function attemptDecrypt(dump: Dump, extraKeyMaterial: Uint8Array[] = []): Attempt {
  const blobs = sealedBlobs(dump);
  const kekIds = [...new Set(blobs.flatMap((b) => (b.kekId ? [b.kekId] : [])))];
  const result: Attempt = { candidates: 0, tries: 0, opened: [] };
  const tried = new Set<string>();
  let queue = keyCandidates([...byteStrings(dump), ...extraKeyMaterial]);
  const tryOpen = (key: Uint8Array, blob: Blob, how: string) => {
    for (const aad of blob.aads) {
      result.tries++;
      try {
        const plaintext = open(key, blob.sealed, aad);
        result.opened.push({ blob: blob.label, kind: blob.kind, how: `${how}, ${aad.length ? "recomputed" : "empty"} AAD`, plaintext });
      } catch {
        // Did not open: the expected outcome without the key.
      }
    }
  };
  while (queue.length > 0) {
    const before = result.opened.length;
    for (const candidate of queue) {
      const id = hex(candidate);
      if (tried.has(id)) continue;
      tried.add(id);
      result.candidates++;
      const asDek = deriveValueKey(candidate);
      const asMaster = new Map(kekIds.map((k) => [k, kekFromMaster(candidate, k)]));
      for (const blob of blobs) {
        tryOpen(candidate, blob, "as AES key");
        tryOpen(asDek, blob, "as DEK");
        if (blob.kekId) tryOpen(asMaster.get(blob.kekId)!, blob, "as master key");
      }
    }
    queue = result.opened
      .slice(before)
      .filter((o) => o.kind === "wrapped-key")
      .flatMap((o) => keyCandidates([o.plaintext]));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------

for (const kind of DATABASE_KINDS) {
  describe(`storage-dump on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let dump: Dump;
    /** Every value ever written, all versions, including deleted and disabled ones. */
    const values: string[] = [];
    const secrets: string[] = [];

    before(async () => {
      deployment = await deploy(kind, { env: { SHARDVAULT_LOG_LEVEL: "trace" } });
      const { server } = deployment;
      secrets.push(server.adminKey);
      const admin = api(server.url, server.adminKey);
      const vaultId = (await admin.post("/v1/vaults", { name: "dump", description: "dumped" })).body.id as string;
      const s = (p: string) => `/v1/vaults/${vaultId}/secrets/${p}`;
      const write = async (path: string, extra: Record<string, unknown> = {}) => {
        const value = secretValue("dump");
        values.push(value);
        const res = await admin.put(s(path), { value, ...extra });
        assert.equal(res.status, 201, res.text);
      };
      await write("dump/a", { type: "password", metadata: { owner: "ops" } });
      await write("dump/a");
      await write("dump/deleted");
      assert.equal((await admin.delete(s("dump/deleted"))).status, 204);
      await write("dump/disabled");
      assert.equal((await admin.post(`/v1/vaults/${vaultId}/secret-version-disable/dump/disabled/1`)).status, 204);
      await write("dump/once", { max_access_count: 1 });
      assert.equal((await admin.get(s("dump/once"))).status, 200);
      const rotated = await admin.post(`/v1/vaults/${vaultId}/secret-rotate/dump/rotated`, { length: 40, charset: "alphanumeric" });
      assert.equal(rotated.status, 201);
      const generated = (await admin.get(s("dump/rotated"))).body.value as string;
      values.push(generated);
      for (const path of ["dump/a"]) assert.equal((await admin.get(s(path))).status, 200);
      secrets.push(...values);

      // A dump is taken of a stopped server (PGlite: the folder can only be opened once the server let go).
      assert.equal((await server.stop()).code, 0, server.output());
      dump = kind === "pglite" ? await dumpPglite(join(server.dataDir, "pgdata")) : await dumpPostgres(deployment.database!.url);
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("the dump holds every version, and no value in clear", () => {
      assert.equal(dump.secret_versions?.length, values.length, "one row per written version");
      const strings = byteStrings(dump).map((b) => Buffer.from(b));
      for (const value of values) {
        const needle = Buffer.from(value, "utf8");
        assert.ok(!strings.some((b) => b.includes(needle)), "a value appears in clear in the dump");
      }
      // Nor is any provider key in it.
      for (const file of readdirSync(join(deployment.server.dataDir, "keys"))) {
        const key = readFileSync(join(deployment.server.dataDir, "keys", file));
        assert.ok(!strings.some((b) => b.includes(key)), `${file} appears in the dump`);
      }
    });

    test("no byte string of the dump opens any ciphertext or wrapped key", () => {
      const attempt = attemptDecrypt(dump);
      assert.deepEqual(
        attempt.opened.map((o) => `${o.blob} (${o.how})`),
        [],
        "something in the dump opened a sealed value",
      );
      // The procedure really ran over the dump: every version's two blobs, many candidates, both AADs.
      assert.ok(attempt.candidates > 100, `only ${attempt.candidates} key candidates`);
      assert.ok(attempt.tries > attempt.candidates * values.length * 4, `only ${attempt.tries} tries`);
    });

    test("positive control: the same procedure with the key files recovers every value", () => {
      const keysDir = join(deployment.server.dataDir, "keys");
      const keyFiles = readdirSync(keysDir)
        .filter((f) => f.endsWith(".key"))
        .map((f) => readFileSync(join(keysDir, f)));
      assert.equal(keyFiles.length, 3);
      const attempt = attemptDecrypt(dump, keyFiles);
      const recovered = new Set(attempt.opened.filter((o) => o.kind === "value").map((o) => o.plaintext.toString("utf8")));
      for (const value of values) assert.ok(recovered.has(value), "a value was not recovered with the key files");
      // Each through the intended route only: the master key unwraps the DEK under the recomputed binding, and
      // the DEK opens the value under the recomputed associated data.
      const routes = new Set(attempt.opened.map((o) => `${o.kind}: ${o.how}`));
      assert.ok(routes.has("wrapped-key: as master key, recomputed AAD"), [...routes].join("; "));
      assert.ok(routes.has("value: as DEK, recomputed AAD"), [...routes].join("; "));
      assert.ok(![...routes].some((r) => r.includes("empty AAD")), `something opened without its binding: ${[...routes].join("; ")}`);
    });

    test("the server's output holds no secret value and no API key", () => {
      // The JSON logs (at trace level: everything the server logs) are read too, their request lines included.
      const requests = assertJsonLogs(deployment.server.output());
      assert.ok(requests.length > 10, `request lines are logged (${requests.length})`);
      assertNoLeak(deployment.server.output(), secrets);
    });
  });
}
