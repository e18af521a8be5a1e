/**
 * Helpers for the audit chain suites: verification and export over HTTP (asserting their shapes), the
 * chain-order checks every chain must pass, and organizations created through the service layer.
 */
import assert from "node:assert/strict";
import type { AuditVerification } from "@shardvault/api";
import type { Queryable } from "../../src/db/database.js";
import { createOrganization } from "../../src/orgs/org-service.js";
import { UUID, type Api } from "./harness.js";
import type { AuditEvent } from "./auth-support.js";
import type { Queryer } from "./mpc-support.js";

export type Verdict = Omit<AuditVerification, "scheme">;

const query = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
};

/** `GET /v1/audit/verify`, asserting 200 and 1claw's shape (with the scheme Shardvault documents). */
export async function verifyChain(admin: Api, params: Record<string, string | number | undefined> = {}): Promise<Verdict> {
  const res = await admin.get(`/v1/audit/verify${query(params)}`);
  assert.equal(res.status, 200, res.text);
  const { scheme, ...verdict } = res.body;
  assert.deepEqual(Object.keys(res.body).sort(), ["broken_at_event_id", "chain_valid", "events_checked", "events_unchained", "events_verified", "head", "scheme"]);
  assert.equal(scheme.algorithm, "HMAC-SHA256");
  assert.equal(scheme.hash_field, "integrity_hash");
  assert.equal(scheme.link_field, "prev_event_id");
  assert.equal(typeof scheme.chain_structure, "string");
  assert.equal(typeof scheme.documentation, "string");
  assert.equal(verdict.chain_valid, verdict.broken_at_event_id === null, res.text);
  return verdict;
}

/**
 * `GET /v1/audit/export` through `fetch`, asserting an NDJSON answer (each line one event, newline-ended) that
 * is streamed (chunked, no Content-Length). Answers the events.
 */
export async function exportChain(url: string, key: string, params: Record<string, string | undefined> = {}): Promise<AuditEvent[]> {
  const res = await fetch(`${url}/v1/audit/export${query(params)}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/x-ndjson/);
  if (text !== "") {
    assert.equal(res.headers.get("content-length"), null, "the export is streamed, not sent as one sized body");
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.ok(text.endsWith("\n"), "every line ends with a newline");
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as AuditEvent);
}

/** Asserts events in chain order: each chained one links to the one before (the first chained to nothing). */
export function assertLinked(events: AuditEvent[], context = ""): void {
  let previous: AuditEvent | undefined;
  for (const [i, e] of events.entries()) {
    if (e.integrity_hash === null) {
      assert.equal(previous, undefined, `${context}: an unchained event after the chain began (#${i})`);
      continue;
    }
    assert.match(e.integrity_hash, /^[0-9a-f]{64}$/, context);
    assert.equal(e.prev_event_id, previous?.id ?? null, `${context}: event #${i} links to the one before`);
    if (previous) assert.ok(e.created_at >= previous.created_at, `${context}: times never go back along the chain`);
    if (e.prev_event_id !== null) assert.match(e.prev_event_id, UUID);
    previous = e;
  }
}

/** Creates organizations through the service layer (as bootstrap does); answers their admin keys and ids. */
export async function createOrganizations(db: Queryer, names: string[]): Promise<Array<{ name: string; orgId: string; adminApiKey: string }>> {
  const tx: Queryable = { query: async (sql: string, params?: readonly unknown[]) => (await db.query(sql, params as unknown[])).rows } as Queryable;
  const created = [];
  for (const name of names) {
    const org = await createOrganization(tx, name);
    created.push({ name, orgId: org.orgId, adminApiKey: org.adminApiKey });
  }
  return created;
}
