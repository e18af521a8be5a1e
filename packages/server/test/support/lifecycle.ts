/**
 * Helpers for the MPC key lifecycle suites (`mpc-lifecycle*.test.ts`): starting and following jobs over HTTP,
 * writing and reading many secrets in any custody mode, and the stored rows of a vault's versions and shares
 * (with the local providers' key files, unwrapping a stored share the way the server does).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { combine, open, verifyDekCommitment, xorCombine } from "@shardvault/crypto";
import { commitmentContext, keyBindingContext, type Protection, type VersionRef } from "../../src/envelope/contexts.js";
import type { Api, ApiResponse } from "./harness.js";
import { localKek, secretUrl, shareHeader, type Queryer } from "./mpc-support.js";

export type LifecycleCall = "rotate" | "refresh" | "replace-provider";
export const KINDS: Record<LifecycleCall, string> = { rotate: "rotate", refresh: "refresh", "replace-provider": "replace_provider" };

export const jobUrl = (vaultId: string, jobId: string) => `/v1/vaults/${vaultId}/mpc/jobs/${jobId}`;

/** `POST …/mpc/{call}` (with `{from, to}` for a replacement); answers the response as it is. */
export function postJob(admin: Api, vaultId: string, call: LifecycleCall, body?: { from: string; to: string }): Promise<ApiResponse> {
  return admin.post(`/v1/vaults/${vaultId}/mpc/${call}`, body);
}

/** Asserts a 202 `{job_id, kind, status}` with its Location; answers the job id. */
export function assertStarted(res: ApiResponse, call: LifecycleCall, vaultId: string): string {
  assert.equal(res.status, 202, `${call}: ${res.text}`);
  assert.deepEqual(Object.keys(res.body).sort(), ["job_id", "kind", "status"], res.text);
  assert.equal(res.body.kind, KINDS[call]);
  assert.ok(["pending", "running", "completed", "failed"].includes(res.body.status), res.text);
  assert.equal(res.headers.get("location"), jobUrl(vaultId, res.body.job_id));
  return res.body.job_id;
}

export interface JobView {
  id: string;
  kind: string;
  status: "pending" | "running" | "completed" | "failed";
  total: number;
  processed: number;
  error?: string;
}

export async function getJob(admin: Api, vaultId: string, jobId: string): Promise<JobView> {
  const res = await admin.get(jobUrl(vaultId, jobId));
  assert.equal(res.status, 200, res.text);
  const keys = Object.keys(res.body).sort();
  assert.deepEqual(keys.filter((k) => k !== "error"), ["id", "kind", "processed", "status", "total"], res.text);
  return res.body;
}

/**
 * Polls a job until `done` holds (by default: completed or failed). A bounded number of polls is a safety net
 * against a job that never gets there, not a timing assertion.
 */
export async function waitForJob(admin: Api, vaultId: string, jobId: string, done = (job: JobView) => job.status === "completed" || job.status === "failed"): Promise<JobView> {
  let job: JobView | undefined;
  for (let i = 0; i < 4000; i++) {
    job = await getJob(admin, vaultId, jobId);
    if (done(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, i < 50 ? 10 : 50));
  }
  assert.fail(`job ${jobId} never reached the expected state: ${JSON.stringify(job)}`);
}

export interface Secret {
  path: string;
  version: number;
  id: string;
  value: string;
  share?: string;
}

/** Writes `count` secrets `${prefix}/NNNN`, `concurrency` at a time; asserts every 201. */
export async function writeSecrets(admin: Api, vaultId: string, prefix: string, count: number, concurrency = 8): Promise<Secret[]> {
  const out: Secret[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const path = `${prefix}/${String(i).padStart(4, "0")}`;
      const value = `lifecycle-${prefix}-${i}-${Math.random().toString(36).slice(2)}`;
      const res = await admin.put(secretUrl(vaultId, path), { value });
      assert.equal(res.status, 201, `${path}: ${res.text}`);
      out[i] = { path, version: res.body.version, id: res.body.id, value, ...(res.body.client_share ? { share: res.body.client_share } : {}) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** Every secret reads back its value (with its share in client custody); lists the ones that do not. */
export async function unreadable(admin: Api, vaultId: string, secrets: readonly Secret[], concurrency = 8): Promise<string[]> {
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < secrets.length; i = next++) {
      const s = secrets[i]!;
      const res = await admin.get(`${secretUrl(vaultId, s.path)}?version=${s.version}`, { headers: shareHeader(s.share) });
      if (res.status !== 200 || res.body.value !== s.value) problems.push(`${s.path} v${s.version}: ${res.status} ${res.body?.code ?? res.body?.value}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return problems;
}

export async function assertAllRead(admin: Api, vaultId: string, secrets: readonly Secret[], context: string): Promise<void> {
  const problems = await unreadable(admin, vaultId, secrets);
  assert.deepEqual(problems.slice(0, 10), [], `${context}: ${problems.length} of ${secrets.length} secrets do not read`);
}

// ---------------------------------------------------------------------------------------------------------
// Stored rows

export interface VersionRow {
  id: string;
  path: string;
  version: number;
  dek_commitment: Buffer;
  ciphertext: Buffer;
  mpc_generation: number;
  mpc_providers: string[];
  mpc_commitment_providers: string[] | null;
}

export interface ShareRow {
  version_id: string;
  provider: string;
  share_index: number;
  kek_id: string;
  wrapped_share: Buffer;
}

export async function vaultRow(db: Queryer, vaultId: string): Promise<{ mpc_custody: string; mpc_providers: string[]; mpc_generation: number }> {
  return (await db.query("SELECT mpc_custody, mpc_providers, mpc_generation FROM vaults WHERE id = $1", [vaultId])).rows[0];
}

export async function vaultKeks(db: Queryer, vaultId: string): Promise<Record<string, string>> {
  const rows = (await db.query("SELECT provider, kek_id FROM vault_mpc_keks WHERE vault_id = $1", [vaultId])).rows;
  return Object.fromEntries(rows.map((r: any) => [r.provider, r.kek_id]));
}

export async function versionRows(db: Queryer, vaultId: string): Promise<VersionRow[]> {
  return (
    await db.query(
      `SELECT id, path, version, dek_commitment, ciphertext, mpc_generation, mpc_providers, mpc_commitment_providers
         FROM secret_versions WHERE vault_id = $1 AND deleted_at IS NULL ORDER BY path, version`,
      [vaultId],
    )
  ).rows;
}

export async function shareRows(db: Queryer, vaultId: string): Promise<ShareRow[]> {
  return (
    await db.query("SELECT version_id, provider, share_index, kek_id, wrapped_share FROM secret_dek_shares WHERE vault_id = $1 ORDER BY version_id, share_index", [
      vaultId,
    ])
  ).rows;
}

/** The KEK ids a local slot has disabled (one per line beside its key file). */
export function disabledKeks(keyFile: string): string[] {
  try {
    return readFileSync(`${keyFile}.disabled`, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** A stored share unwrapped with its slot's key file, under the binding of `protection` (the version's layout). */
export function unwrapStored(master: Uint8Array, ref: VersionRef, protection: Protection, share: ShareRow): Uint8Array {
  const aad = keyBindingContext(ref, protection, { shareIndex: share.share_index, slot: share.provider, kekId: share.kek_id });
  return open(localKek(master, share.kek_id), share.wrapped_share, aad);
}

/** Whether two share values rebuild a DEK that passes the stored commitment under `protection`, XORed or Shamir-combined. */
export function combinesToDek(a: Uint8Array, b: Uint8Array, ref: VersionRef, protection: Protection, commitment: Uint8Array): Uint8Array | undefined {
  const candidates: Array<() => Uint8Array> = [() => xorCombine(a, b), () => combine([a, b])];
  for (const candidate of candidates) {
    let dek: Uint8Array;
    try {
      dek = candidate();
    } catch {
      continue; // shares that cannot be combined this way (lengths, same x)
    }
    if (dek.length === 32 && verifyDekCommitment(dek, commitmentContext(ref, protection), commitment)) return dek;
  }
  return undefined;
}
