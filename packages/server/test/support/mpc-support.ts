/**
 * Helpers for the MPC suites (`mpc-*.test.ts`):
 *
 * - the custody modes as the API shows them, and a small client for enabling MPC and reading with a share;
 * - client-share surgery: decode a `client_share`, change bytes, recompute its check, re-encode (the layout is in
 *   packages/crypto/src/client-share.ts: version | scheme | index | 32 share bytes | 8-byte tag | 4-byte check);
 * - configuration files with local provider slots (SHARDVAULT_CONFIG);
 * - a scan of every row of every table for given bytes (PostgreSQL, or PGlite opened after the server stopped),
 *   and of every file under a folder;
 * - the offline attacker of the security-model tests: from database rows, the key files of some local provider
 *   slots and perhaps a client share, it tries every way to rebuild a version's DEK, checks it against the
 *   stored commitment, and opens the value.
 */
import assert from "node:assert/strict";
import { createHash, hkdfSync } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  combine,
  deriveValueKey,
  open,
  SCHEME_XOR,
  verifyDekCommitment,
  xorCombine,
} from "@shardvault/crypto";
import { commitmentContext, keyBindingContext, valueContext, type Protection, type VersionRef } from "../../src/envelope/contexts.js";
import { makeTempDir, type Api, type ApiResponse } from "./harness.js";

// ---------------------------------------------------------------------------------------------------------
// Modes

export type ModeName = "2of2_client_custody" | "2of3_multi_hsm" | "2of3_client_custody" | "2of3_client_required";

export interface ModeInfo {
  name: ModeName;
  /** `mpc_providers` by default, in share order. */
  providers: string[];
  /** The provider slots holding a share (default providers without `client`). */
  slots: string[];
  clientHoldsShare: boolean;
  scheme: "xor" | "shamir";
  /** The client share's index byte (its position in `providers`, from 1). */
  clientIndex?: number;
}

export const MODES: readonly ModeInfo[] = [
  { name: "2of2_client_custody", providers: ["gcp", "client"], slots: ["gcp"], clientHoldsShare: true, scheme: "xor", clientIndex: 2 },
  { name: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"], slots: ["gcp", "aws", "azure"], clientHoldsShare: false, scheme: "shamir" },
  { name: "2of3_client_custody", providers: ["gcp", "aws", "client"], slots: ["gcp", "aws"], clientHoldsShare: true, scheme: "shamir", clientIndex: 3 },
  { name: "2of3_client_required", providers: ["gcp", "aws", "client"], slots: ["gcp", "aws"], clientHoldsShare: true, scheme: "xor", clientIndex: 3 },
];

/** The client share's scheme byte for a mode's scheme. */
export const schemeByte = (scheme: ModeInfo["scheme"]) => (scheme === "xor" ? 1 : 2);

/** Whether a scheme byte and index are some mode's client share (else a share so shaped is malformed). */
const isClientShape = (scheme: number, index: number) => MODES.some((m) => m.clientIndex === index && schemeByte(m.scheme) === scheme);

export const mode = (name: ModeName): ModeInfo => MODES.find((m) => m.name === name)!;

/** Asserts the vault view of an MPC vault. */
export function assertMpcVault(body: any, m: ModeInfo, providers = m.providers, context = ""): void {
  assert.equal(body.mpc_custody, m.name, `${context} ${JSON.stringify(body)}`);
  assert.equal(body.mpc_threshold, 2, context);
  assert.deepEqual(body.mpc_providers, providers, context);
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export const secretUrl = (vaultId: string, path: string) => `/v1/vaults/${vaultId}/secrets/${path}`;
export const shareHeader = (share: string | undefined): Record<string, string> => (share === undefined ? {} : { "X-Client-Share": share });

/** GET a secret (optionally a version) with an optional client share. */
export function readSecret(admin: Api, vaultId: string, path: string, share?: string, version?: number): Promise<ApiResponse> {
  return admin.get(`${secretUrl(vaultId, path)}${version === undefined ? "" : `?version=${version}`}`, { headers: shareHeader(share) });
}

/**
 * A GET that gives up after `ms` (a safety net against a request the server never answers; fetch itself
 * waits minutes for headers). A hang fails the test with a message saying so.
 */
export async function boundedGet(url: string, key: string | undefined, path: string, headers: Record<string, string> = {}, ms = 10_000): Promise<ApiResponse> {
  let res: Response;
  try {
    res = await fetch(url + path, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      signal: AbortSignal.timeout(ms),
    });
  } catch (error) {
    if ((error as Error).name === "TimeoutError") assert.fail(`GET ${path}: the server did not answer within ${ms} ms (a hung request)`);
    throw error;
  }
  const text = await res.text();
  const body = text !== "" && /json/.test(res.headers.get("content-type") ?? "") ? JSON.parse(text) : text === "" ? undefined : text;
  return { request: `GET ${url}${path}`, status: res.status, headers: res.headers, body, text };
}

/** Asserts a 200 read of exactly `value` (and `version`, when given). */
export function assertValue(res: ApiResponse, value: string, version?: number, context = ""): void {
  assert.equal(res.status, 200, `${context}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.equal(res.body.value, value, context);
  if (version !== undefined) assert.equal(res.body.version, version, context);
  assert.ok(!("client_share" in res.body), `${context}: a read answered a client_share`);
}

/** Creates a vault, asserting 201. */
export async function createVault(admin: Api, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await admin.post("/v1/vaults", { name, ...extra });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Enables MPC on a vault, asserting 200. */
export async function enableMpc(admin: Api, vaultId: string, body: Record<string, unknown>): Promise<any> {
  const res = await admin.post(`/v1/vaults/${vaultId}/mpc`, body);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

/** PUTs a value, asserting 201 and that a client share comes back exactly when the mode has one. */
export async function putSecret(admin: Api, vaultId: string, path: string, value: string, m?: ModeInfo, extra: Record<string, unknown> = {}) {
  const res = await admin.put(secretUrl(vaultId, path), { value, ...extra });
  assert.equal(res.status, 201, res.text);
  assert.ok(!("value" in res.body), "a write answered the value");
  if (m?.clientHoldsShare) assertShareShape(res.body.client_share, m);
  else assert.ok(!("client_share" in res.body), `no client_share expected: ${res.text}`);
  return res.body as { id: string; path: string; version: number; client_share?: string };
}

/** A client share: standard padded base64 of 47 bytes, with the mode's scheme and the client's index. */
export function assertShareShape(share: unknown, m: ModeInfo): asserts share is string {
  assert.equal(typeof share, "string", `client_share: ${String(share)}`);
  assert.match(share as string, /^[A-Za-z0-9+/]{62}[A-Za-z0-9+/]=$/);
  const bytes = Buffer.from(share as string, "base64");
  assert.equal(bytes.length, 47);
  assert.equal(bytes[0], 1, "format version");
  assert.equal(bytes[1], schemeByte(m.scheme), "scheme");
  assert.equal(bytes[2], m.clientIndex, "share index");
  assert.deepEqual(bytes.subarray(43), checkOf(bytes.subarray(0, 43)), "check");
}

// ---------------------------------------------------------------------------------------------------------
// Client-share surgery

export const SHARE_OFFSET = 3;
export const TAG_OFFSET = 35;
export const CHECK_OFFSET = 43;

/** The 4-byte check: the first 4 bytes of SHA-256 over everything before it. */
export const checkOf = (body: Uint8Array) => createHash("sha256").update(body).digest().subarray(0, 4);

/** Decodes `share`, lets `edit` change the bytes (or return new ones), recomputes the check unless told not to. */
export function editShare(share: string, edit: (bytes: Buffer) => Buffer | void, opts: { recheck?: boolean } = {}): string {
  let bytes: Buffer = Buffer.from(share, "base64");
  bytes = edit(bytes) ?? bytes;
  if (opts.recheck !== false) {
    const body = bytes.subarray(0, bytes.length - 4);
    checkOf(body).copy(bytes, bytes.length - 4);
  }
  return bytes.toString("base64");
}

/** Same version, scheme, index and tag, a different share byte, a correct check: well-formed but wrong. */
export const wrongShareBytes = (share: string, at = 0) =>
  editShare(share, (b) => {
    b[SHARE_OFFSET + at]! ^= 0x01;
  });

/**
 * Headers that must be refused as `client_share_malformed`, each labelled: bad encodings, a bad check, an
 * unknown version or scheme, wrong lengths, and schemes and indexes that are no mode's client share (another
 * mode's client share shape is refused otherwise: mpc-client-shares.test.ts).
 */
export function malformedShares(share: string, m: ModeInfo): Array<{ label: string; header: string }> {
  const bytes = Buffer.from(share, "base64");
  const variants: Array<{ label: string; header: string }> = [
    { label: "not base64", header: "not a share!" },
    { label: "base64url alphabet", header: share.replace(/\+/g, "-").replace(/\//g, "_").replace(/^./, "-") },
    { label: "missing padding", header: share.replace(/=+$/, "") },
    { label: "inner whitespace", header: `${share.slice(0, 20)} ${share.slice(20)}` },
    { label: "truncated by one character", header: share.slice(0, -2) + "=" },
    { label: "short (3 bytes)", header: "AAAA" },
    { label: "bad check (a share byte flipped, check kept)", header: editShare(share, (b) => void (b[SHARE_OFFSET + 5]! ^= 0x80), { recheck: false }) },
    { label: "bad check (check flipped)", header: editShare(share, (b) => void (b[CHECK_OFFSET]! ^= 0x01), { recheck: false }) },
    { label: "bad check (tag flipped, check kept)", header: editShare(share, (b) => void (b[TAG_OFFSET]! ^= 0x01), { recheck: false }) },
    { label: "unknown format version 2", header: editShare(share, (b) => void (b[0] = 2)) },
    { label: "unknown format version 0", header: editShare(share, (b) => void (b[0] = 0)) },
    { label: "unknown scheme 3", header: editShare(share, (b) => void (b[1] = 3)) },
    { label: "unknown scheme 0", header: editShare(share, (b) => void (b[1] = 0)) },
    { label: "one byte short (check recomputed)", header: editShare(share, (b) => Buffer.concat([b.subarray(0, 34), b.subarray(35)])) },
    { label: "one byte long (check recomputed)", header: editShare(share, (b) => Buffer.concat([b.subarray(0, 43), Buffer.from([7]), b.subarray(43)])) },
  ];
  const own = schemeByte(m.scheme);
  const shapes: Array<[label: string, scheme: number, index: number]> = [
    ["index 0", own, 0],
    ["index 1 (a server slot's index)", own, 1],
    ["index 2", own, 2],
    ["index 3", own, 3],
    ["index 255", own, 255],
    ["the other scheme", 3 - own, m.clientIndex!],
  ];
  for (const [label, scheme, index] of shapes.filter(([, scheme, index]) => !isClientShape(scheme, index))) {
    const header = editShare(share, (b) => {
      b[1] = scheme;
      b[2] = index;
    });
    variants.push({ label, header });
  }
  // The last base64 character carries 2 unused bits: set them (Buffer would ignore them; the codec must not).
  const last = share.at(-2)!;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const noncanonical = alphabet[alphabet.indexOf(last) | 0x01]!;
  if (noncanonical !== last) variants.push({ label: "non-canonical base64", header: `${share.slice(0, -2)}${noncanonical}=` });
  assert.equal(bytes.length, 47);
  return variants.filter((v) => v.header !== share);
}

// ---------------------------------------------------------------------------------------------------------
// Configuration

/**
 * Writes a SHARDVAULT_CONFIG file with local provider slots (each with its own key file in `dir`), slots on
 * another one's key file (`sharing`: slot → the slot whose file it uses; needs allow_shared_trust_domain in
 * `extra`) and any further top-level keys; answers its path and the key files by slot.
 */
export function writeLocalConfig(
  slots: readonly string[] = ["gcp", "aws", "azure"],
  extra: Record<string, unknown> = {},
  dir = makeTempDir("shardvault-mpc-config-"),
  sharing: Record<string, string> = {},
): { path: string; dir: string; keyFiles: Record<string, string> } {
  const keyFiles = Object.fromEntries(slots.map((slot) => [slot, join(dir, `${slot}.key`)]));
  for (const [slot, owner] of Object.entries(sharing)) keyFiles[slot] = keyFiles[owner]!;
  const config = { providers: Object.fromEntries(Object.entries(keyFiles).map(([slot, file]) => [slot, { backend: "local", key_file: file }])), ...extra };
  const path = join(dir, "shardvault.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, dir, keyFiles };
}

// ---------------------------------------------------------------------------------------------------------
// Scanning stored data

export interface Needle {
  label: string;
  bytes: Uint8Array;
}

/** Needles for a client share: its decoded bytes, its 32 share bytes, its base64 text, and their hex forms. */
export function shareNeedles(share: string, label = "client share"): Needle[] {
  const bytes = Buffer.from(share, "base64");
  const shareBytes = bytes.subarray(SHARE_OFFSET, SHARE_OFFSET + 32);
  return [
    { label: `${label} (decoded)`, bytes },
    { label: `${label} (share bytes)`, bytes: shareBytes },
    { label: `${label} (base64)`, bytes: Buffer.from(share, "utf8") },
    { label: `${label} (base64 unpadded)`, bytes: Buffer.from(share.replace(/=+$/, ""), "utf8") },
    { label: `${label} (share bytes, hex)`, bytes: Buffer.from(Buffer.from(shareBytes).toString("hex"), "utf8") },
    { label: `${label} (share bytes, base64)`, bytes: Buffer.from(Buffer.from(shareBytes).toString("base64").replace(/=+$/, ""), "utf8") },
  ];
}

/** Every byte form a value can take when a row is read: raw, and as text (JSON, arrays) of what is not bytes. */
function valueBytes(value: unknown): Buffer[] {
  if (value === null || value === undefined) return [];
  if (value instanceof Uint8Array) return [Buffer.from(value)];
  if (value instanceof Date) return [Buffer.from(value.toISOString())];
  if (typeof value === "string") return [Buffer.from(value, "utf8")];
  if (Array.isArray(value)) return value.flatMap(valueBytes);
  if (typeof value === "object") return [Buffer.from(JSON.stringify(value), "utf8")];
  return [Buffer.from(String(value), "utf8")];
}

export interface Queryer {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * Reads every row of every table in the public schema (also as `row_to_json` text, which spells bytea as hex)
 * and answers where each needle was found, as `table.column: label`.
 */
export async function scanTables(db: Queryer, needles: readonly Needle[]): Promise<{ hits: string[]; tables: string[]; rows: number }> {
  const { rows: tables } = await db.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  const hits: string[] = [];
  let rowCount = 0;
  const hexNeedles = needles.map((n) => ({ label: n.label, hex: Buffer.from(n.bytes).toString("hex") }));
  for (const { table_name: table } of tables) {
    const { rows } = await db.query(`SELECT * FROM "${table}"`);
    rowCount += rows.length;
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        for (const form of valueBytes(value)) {
          for (const needle of needles) if (form.indexOf(needle.bytes) >= 0) hits.push(`${table}.${column}: ${needle.label}`);
        }
      }
    }
    const { rows: json } = await db.query(`SELECT row_to_json(t)::text AS j FROM "${table}" t`);
    for (const { j } of json) for (const n of hexNeedles) if ((j as string).includes(n.hex)) hits.push(`${table} (as JSON): ${n.label}`);
  }
  return { hits: [...new Set(hits)], tables: tables.map((t: any) => t.table_name), rows: rowCount };
}

/** Every file under `dir` whose bytes contain a needle. */
export function scanFiles(dir: string, needles: readonly Needle[]): string[] {
  const hits: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (!stat) continue;
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) {
        const bytes = readFileSync(path);
        for (const n of needles) if (bytes.indexOf(n.bytes) >= 0) hits.push(`${path}: ${n.label}`);
      }
    }
  };
  walk(dir);
  return hits;
}

// ---------------------------------------------------------------------------------------------------------
// The offline attacker

/** What a thief of the database (or a backup of it) holds. */
export interface DbSnapshot {
  vaults: Array<{ id: string; kek_slot: string; kek_id: string; mpc_custody: string | null; mpc_threshold: number | null; mpc_providers: string[] | null }>;
  versions: Array<{
    id: string;
    vault_id: string;
    path: string;
    version: number;
    ciphertext: Buffer;
    dek_commitment: Buffer;
    wrapped_dek: Buffer | null;
    kek_slot: string | null;
    kek_id: string | null;
  }>;
  shares: Array<{ version_id: string; vault_id: string; provider: string; share_index: number; kek_id: string; wrapped_share: Buffer }>;
}

export async function snapshotDatabase(db: Queryer): Promise<DbSnapshot> {
  const vaults = (await db.query("SELECT id, kek_slot, kek_id, mpc_custody, mpc_threshold, mpc_providers FROM vaults")).rows;
  const versions = (
    await db.query("SELECT id, vault_id, path, version, ciphertext, dek_commitment, wrapped_dek, kek_slot, kek_id FROM secret_versions")
  ).rows;
  const shares = (await db.query("SELECT version_id, vault_id, provider, share_index, kek_id, wrapped_share FROM secret_dek_shares")).rows;
  return { vaults, versions, shares };
}

/** The local provider's KEK for `kekId` under a slot's 32-byte master key (as providers/local.ts derives it). */
export function localKek(master: Uint8Array, kekId: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", master, Buffer.alloc(0), `shardvault/local-provider/kek/v1/${kekId}`, 32));
}

export interface AttackerHolds {
  /** Master keys of the local provider slots the attacker holds, by slot name. */
  keys: ReadonlyMap<string, Uint8Array>;
  /** The client's share of the target version, if the attacker holds it. */
  clientShare?: string;
}

export interface AttackResult {
  /** The plaintext value, when the attacker opened it. */
  value?: Buffer;
  /** How: `plain`, or the share holders combined. */
  how?: string;
  /** Shares the attacker unwrapped (slot names, plus `client`), whether or not enough. */
  unwrapped: string[];
}

const tryOpen = (key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined => {
  try {
    return open(key, sealed, aad);
  } catch {
    return undefined;
  }
};

/**
 * Tries everything the holdings allow for one version: the plain wrapped DEK (if still stored) under its slot's
 * KEK, and under the vault's recorded protection every unwrapped server share and the client share alone and
 * every pair of them, XORed and Shamir-combined alike (the attacker does not trust the mode to say which). A candidate DEK counts only when it verifies against the stored commitment and opens the value.
 */
export function attack(snap: DbSnapshot, ref: VersionRef, holds: AttackerHolds): AttackResult {
  const row = snap.versions.find((v) => v.vault_id === ref.vaultId && v.path === ref.path && v.version === ref.version);
  assert.ok(row, `no row for ${ref.path} v${ref.version}`);
  const vault = snap.vaults.find((v) => v.id === ref.vaultId)!;
  const unwrapped: string[] = [];
  const candidates: Array<{ dek: Uint8Array; protection: Protection; how: string }> = [];

  // 1. A DEK wrapped by a single KEK (plain protection), if the row still holds one.
  if (row.wrapped_dek && row.kek_slot && row.kek_id && holds.keys.has(row.kek_slot)) {
    const protection: Protection = { custody: "none", threshold: 1, providers: [row.kek_slot] };
    const aad = keyBindingContext(ref, protection, { shareIndex: 0, slot: row.kek_slot, kekId: row.kek_id });
    const dek = tryOpen(localKek(holds.keys.get(row.kek_slot)!, row.kek_id), row.wrapped_dek, aad);
    if (dek) candidates.push({ dek, protection, how: "plain" });
  }

  // 2. Shares under the vault's recorded MPC protection.
  if (vault.mpc_custody) {
    const protection: Protection = { custody: vault.mpc_custody, threshold: vault.mpc_threshold!, providers: vault.mpc_providers! };
    const parts: Array<{ holder: string; bytes: Uint8Array }> = [];
    for (const share of snap.shares.filter((s) => s.version_id === row.id)) {
      const master = holds.keys.get(share.provider);
      if (!master) continue;
      const aad = keyBindingContext(ref, protection, { shareIndex: share.share_index, slot: share.provider, kekId: share.kek_id });
      const bytes = tryOpen(localKek(master, share.kek_id), share.wrapped_share, aad);
      if (bytes) {
        parts.push({ holder: share.provider, bytes });
        unwrapped.push(share.provider);
      }
    }
    if (holds.clientShare) {
      // Read from the documented layout (the attacker needs no codec): scheme, index, then the share bytes.
      const encoded = Buffer.from(holds.clientShare, "base64");
      const [scheme, index] = [encoded[1]!, encoded[2]!];
      const share = encoded.subarray(SHARE_OFFSET, TAG_OFFSET);
      parts.push({ holder: "client", bytes: scheme === SCHEME_XOR ? share : Uint8Array.from([...share, index]) });
      unwrapped.push("client");
    }
    // Whatever the mode says: each part taken as the DEK itself, and each pair combined both ways (XOR, Shamir).
    for (const [i, a] of parts.entries()) {
      candidates.push({ dek: a.bytes, protection, how: a.holder });
      for (const b of parts.slice(i + 1)) {
        const how = `${a.holder}+${b.holder}`;
        if (a.bytes.length === b.bytes.length) candidates.push({ dek: xorCombine(a.bytes, b.bytes), protection, how });
        try {
          candidates.push({ dek: combine([a.bytes, b.bytes]), protection, how });
        } catch {
          // shares that cannot be combined (same x, different lengths) are no candidate
        }
      }
    }
  }

  for (const c of candidates) {
    if (c.dek.length !== 32 || !verifyDekCommitment(c.dek, commitmentContext(ref, c.protection), row.dek_commitment)) continue;
    const value = tryOpen(deriveValueKey(c.dek), row.ciphertext, valueContext(ref));
    if (value) return { value: Buffer.from(value), how: c.how, unwrapped };
  }
  return { unwrapped };
}

/** Reads the local providers' master keys from a keys folder (`<dir>/<slot>.key`). */
export function readKeyFiles(keyFiles: Record<string, string>): Map<string, Uint8Array> {
  return new Map(Object.entries(keyFiles).map(([slot, file]) => [slot, new Uint8Array(readFileSync(file))]));
}

/** Every subset of `items`, the empty one included. */
export function subsetsOf<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let mask = 0; mask < 1 << items.length; mask++) out.push(items.filter((_, i) => mask & (1 << i)));
  return out;
}
