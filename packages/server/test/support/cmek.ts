/**
 * Helpers for the CMEK suites (`cmek-*.test.ts`).
 *
 * The client side of CMEK, written from the format description alone (README "CMEK", api-contract "CMEK"):
 * the client encrypts each value with AES-256-GCM, no associated data, under its own 32-byte key, and sends
 * the standard base64 of
 *
 *   0x01 | IV (12 bytes) | ciphertext | GCM tag (16 bytes)
 *
 * as the value. The key's fingerprint is the lowercase hex SHA-256 of its 32 bytes.
 *
 * Also: small request helpers (enable CMEK, start a rotation, poll a job), bulk writes, the forms a key could
 * take if something stored or logged it, and dumping every row of every table of a deployment's database.
 */
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Api, ApiResponse } from "./harness.js";
import { connect, type Deployment } from "./postgres.js";
import type { Needle, Queryer } from "./mpc-support.js";

// ---------------------------------------------------------------------------------------------------------
// The client's side of the format

export const CMEK_FORMAT_VERSION = 0x01;
export const CMEK_IV_BYTES = 12;
export const CMEK_TAG_BYTES = 16;
export const CMEK_MIN_BYTES = 1 + CMEK_IV_BYTES + CMEK_TAG_BYTES;

export interface CmekKey {
  /** The 32 key bytes. */
  bytes: Buffer;
  /** Standard base64 (padded), as the rotation headers carry it. */
  b64: string;
  /** Lowercase hex SHA-256 of the key bytes. */
  fingerprint: string;
}

export function cmekFingerprint(key: Uint8Array): string {
  return createHash("sha256").update(key).digest("hex");
}

export function cmekKey(bytes: Uint8Array = randomBytes(32)): CmekKey {
  assert.equal(bytes.length, 32, "a CMEK key is 32 bytes");
  const buf = Buffer.from(bytes);
  return { bytes: buf, b64: buf.toString("base64"), fingerprint: cmekFingerprint(buf) };
}

/** Encrypts `plaintext` (UTF-8 when a string) under `key`: the standard base64 of the CMEK blob. */
export function cmekEncrypt(key: CmekKey | Uint8Array, plaintext: string | Uint8Array): string {
  const k = key instanceof Uint8Array ? key : key.bytes;
  const iv = randomBytes(CMEK_IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", k, iv, { authTagLength: CMEK_TAG_BYTES });
  const body = Buffer.concat([cipher.update(typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([CMEK_FORMAT_VERSION]), iv, body, cipher.getAuthTag()]).toString("base64");
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Opens a CMEK blob (its base64 text) with `key`; throws when it is not a well-formed blob or does not
 * authenticate under the key.
 */
export function cmekDecrypt(key: CmekKey | Uint8Array, blob: string): Buffer {
  const k = key instanceof Uint8Array ? key : key.bytes;
  if (!STANDARD_BASE64.test(blob)) throw new Error("not standard base64");
  const bytes = Buffer.from(blob, "base64");
  if (bytes.toString("base64") !== blob) throw new Error("not canonical base64");
  return cmekOpenBytes(k, bytes);
}

/** Opens the decoded blob bytes with a 32-byte key; throws when they do not authenticate. */
export function cmekOpenBytes(key: Uint8Array, bytes: Uint8Array): Buffer {
  if (bytes.length < CMEK_MIN_BYTES) throw new Error(`blob of ${bytes.length} bytes is too short`);
  if (bytes[0] !== CMEK_FORMAT_VERSION) throw new Error(`unknown blob version ${bytes[0]}`);
  const iv = bytes.subarray(1, 1 + CMEK_IV_BYTES);
  const tagAt = bytes.length - CMEK_TAG_BYTES;
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: CMEK_TAG_BYTES });
  decipher.setAuthTag(bytes.subarray(tagAt));
  return Buffer.concat([decipher.update(bytes.subarray(1 + CMEK_IV_BYTES, tagAt)), decipher.final()]);
}

/** True when `blob` opens with `key`. */
export function cmekOpens(key: CmekKey | Uint8Array, blob: string): boolean {
  try {
    cmekDecrypt(key, blob);
    return true;
  } catch {
    return false;
  }
}

/** The strings a key could be logged as, for assertNoLeak (which adds its own encodings of each). */
export function keyStrings(key: CmekKey): string[] {
  return [key.b64, key.b64.replace(/=+$/, ""), key.bytes.toString("base64url"), key.bytes.toString("hex")];
}

/** The byte forms a key could be stored as: raw, and base64 / base64url / hex (both cases) as text. */
export function keyNeedles(key: CmekKey, label: string): Needle[] {
  const text = (s: string) => Buffer.from(s, "utf8");
  return [
    { label: `${label} (raw bytes)`, bytes: key.bytes },
    { label: `${label} (base64)`, bytes: text(key.b64.replace(/=+$/, "")) },
    { label: `${label} (base64url)`, bytes: text(key.bytes.toString("base64url")) },
    { label: `${label} (hex)`, bytes: text(key.bytes.toString("hex")) },
    { label: `${label} (HEX)`, bytes: text(key.bytes.toString("hex").toUpperCase()) },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export const cmekUrl = (vaultId: string) => `/v1/vaults/${vaultId}/cmek`;
export const rotateUrl = (vaultId: string) => `/v1/vaults/${vaultId}/cmek-rotate`;

/** Enables CMEK with `key`'s fingerprint, asserting 200 and the vault view. */
export async function enableCmek(admin: Api, vaultId: string, key: CmekKey): Promise<any> {
  const res = await admin.post(cmekUrl(vaultId), { fingerprint: key.fingerprint });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.cmek_enabled, true, res.text);
  assert.equal(res.body.cmek_fingerprint, key.fingerprint, res.text);
  return res.body;
}

/** POST cmek-rotate with the two keys in their headers (either may be replaced by a raw header value). */
export function postRotation(
  admin: Api,
  vaultId: string,
  oldKey: CmekKey | string | undefined,
  newKey: CmekKey | string | undefined,
  newFingerprint: string | undefined = typeof newKey === "object" ? newKey.fingerprint : undefined,
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (oldKey !== undefined) headers["x-cmek-old-key"] = typeof oldKey === "string" ? oldKey : oldKey.b64;
  if (newKey !== undefined) headers["x-cmek-new-key"] = typeof newKey === "string" ? newKey : newKey.b64;
  return admin.post(rotateUrl(vaultId), newFingerprint === undefined ? {} : { new_fingerprint: newFingerprint }, { headers });
}

export interface RotationJob {
  id: string;
  vault_id: string;
  old_fingerprint: string;
  new_fingerprint: string;
  status: "pending" | "running" | "completed" | "failed";
  total_secrets: number;
  processed: number;
  error?: string;
  started_at: string | null;
  completed_at: string | null;
  created_at: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Asserts the job view's shape (every documented field, types, status vocabulary). */
export function assertJobShape(job: any, context = ""): asserts job is RotationJob {
  const where = `${context} ${JSON.stringify(job)}`;
  assert.equal(typeof job, "object", where);
  assert.match(job.id, /^[0-9a-f-]{36}$/i, where);
  assert.match(job.vault_id, /^[0-9a-f-]{36}$/i, where);
  assert.match(job.old_fingerprint, /^[0-9a-f]{64}$/, where);
  assert.match(job.new_fingerprint, /^[0-9a-f]{64}$/, where);
  assert.ok(["pending", "running", "completed", "failed"].includes(job.status), where);
  assert.ok(Number.isInteger(job.total_secrets) && job.total_secrets >= 0, where);
  assert.ok(Number.isInteger(job.processed) && job.processed >= 0, where);
  assert.ok(job.processed <= job.total_secrets, `processed exceeds total_secrets: ${where}`);
  if ("error" in job) assert.equal(typeof job.error, "string", where);
  for (const field of ["started_at", "completed_at"]) {
    assert.ok(field in job, `${field} missing: ${where}`);
    if (job[field] !== null) assert.match(job[field], RFC3339, where);
  }
  assert.match(job.created_at, RFC3339, where);
  const allowed = new Set(["id", "vault_id", "old_fingerprint", "new_fingerprint", "status", "total_secrets", "processed", "error", "started_at", "completed_at", "created_at"]);
  for (const field of Object.keys(job)) assert.ok(allowed.has(field), `unexpected field ${field}: ${where}`);
}

/** GET a job. */
export function getJob(admin: Api, vaultId: string, jobId: string): Promise<ApiResponse> {
  return admin.get(`${rotateUrl(vaultId)}/${jobId}`);
}

/**
 * Polls a job until it is completed or failed. A bounded number of polls (a safety net against a job that
 * never ends, not a timing assertion); every answer must be a well-formed job.
 */
export async function waitForJob(admin: Api, vaultId: string, jobId: string, maxPolls = 6000): Promise<RotationJob> {
  let last: ApiResponse | undefined;
  for (let i = 0; i < maxPolls; i++) {
    last = await getJob(admin, vaultId, jobId);
    assert.equal(last.status, 200, last.text);
    assertJobShape(last.body, "polled job");
    if (last.body.status === "completed" || last.body.status === "failed") return last.body;
    await sleep(i < 50 ? 10 : 50);
  }
  assert.fail(`rotation job ${jobId} did not finish after ${maxPolls} polls: ${last?.text}`);
}

// ---------------------------------------------------------------------------------------------------------
// Writing many CMEK secrets

export interface Written {
  path: string;
  version: number;
  /** The plaintext the client encrypted. */
  plaintext: string;
  /** The blob sent as the value. */
  blob: string;
}

/** Writes `count` CMEK secrets `${prefix}/NNNN` under `key`, `concurrency` at a time; asserts every 201. */
export async function writeMany(admin: Api, vaultId: string, key: CmekKey, count: number, prefix: string, concurrency = 8): Promise<Written[]> {
  const out: Written[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const path = `${prefix}/${String(i).padStart(4, "0")}`;
      const plaintext = `cmek-plain-${prefix}-${i}-${randomBytes(8).toString("hex")}`;
      const blob = cmekEncrypt(key, plaintext);
      const res = await admin.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value: blob, type: "api_key" });
      assert.equal(res.status, 201, `${path}: ${res.text}`);
      out[i] = { path, version: res.body.version, plaintext, blob };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Reads the latest version of `path` (optionally a version), asserting 200 and `cmek_encrypted`. */
export async function readBlob(admin: Api, vaultId: string, path: string, opts: { version?: number; share?: string; cmek?: boolean } = {}): Promise<string> {
  const q = opts.version === undefined ? "" : `?version=${opts.version}`;
  const res = await admin.get(`/v1/vaults/${vaultId}/secrets/${path}${q}`, opts.share ? { headers: { "X-Client-Share": opts.share } } : {});
  assert.equal(res.status, 200, `${path}: ${res.text}`);
  assert.equal(res.body.cmek_encrypted, opts.cmek ?? true, `${path}: cmek_encrypted ${res.text}`);
  return res.body.value as string;
}

/** Reads many paths, `concurrency` at a time. */
export async function readMany(admin: Api, vaultId: string, paths: readonly string[], concurrency = 8): Promise<string[]> {
  const out: string[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) out[i] = await readBlob(admin, vaultId, paths[i]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Stored data

/**
 * Runs `fn` over the deployment's database: PostgreSQL through a client (the server may still run), PGlite by
 * opening `<data dir>/pgdata` directly (the server must have stopped: it locks the folder).
 */
export async function withStoredRows<T>(deployment: Deployment, fn: (db: Queryer) => Promise<T>): Promise<T> {
  if (deployment.kind === "postgres") {
    const client = await connect(deployment.database!.url);
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const db = new PGlite(join(deployment.server.dataDir, "pgdata"));
  try {
    await db.waitReady;
    return await fn({ query: (sql: string, params?: unknown[]) => db.query(sql, params as any[]) as Promise<{ rows: any[] }> });
  } finally {
    await db.close();
  }
}

export type Dump = Record<string, Array<Record<string, unknown>>>;

/** Every row of every table of the public schema. */
export async function dumpTables(db: Queryer): Promise<Dump> {
  const { rows: tables } = await db.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const dump: Dump = {};
  for (const { table_name: table } of tables) dump[table] = (await db.query(`SELECT * FROM "${table}"`)).rows;
  return dump;
}

/** Every byte string a dumped value holds: bytes as they are; strings as UTF-8 and decoded from hex / base64 where they parse. */
export function byteStrings(value: unknown, out: Uint8Array[] = []): Uint8Array[] {
  if (value === null || value === undefined || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint" || value instanceof Date) return out;
  if (value instanceof Uint8Array) out.push(value);
  else if (typeof value === "string") {
    out.push(Buffer.from(value, "utf8"));
    const h = value.startsWith("\\x") ? value.slice(2) : value;
    if (h.length >= 64 && h.length % 2 === 0 && /^[0-9a-f]+$/i.test(h)) out.push(Buffer.from(h, "hex"));
    if (value.length >= 43 && /^[A-Za-z0-9+/_-]+=*$/.test(value)) out.push(Buffer.from(value, "base64"), Buffer.from(value, "base64url"));
  } else if (Array.isArray(value)) for (const item of value) byteStrings(item, out);
  else if (typeof value === "object") for (const item of Object.values(value as object)) byteStrings(item, out);
  return out;
}

/** Every distinct 32-byte window of every byte string of 32 bytes or more. */
export function keyCandidates(strings: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const s of strings) {
    for (let at = 0; at + 32 <= s.length; at++) {
      const window = s.subarray(at, at + 32);
      seen.set(Buffer.from(window).toString("hex"), window);
    }
  }
  return [...seen.values()];
}
