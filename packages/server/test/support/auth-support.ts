/**
 * Helpers for the auth, agents, audit and OpenAPI suites (`auth-*.test.ts`, `agents-*.test.ts`,
 * `audit-*.test.ts`, `openapi.test.ts`):
 *
 * - small API clients: PATCH (the harness client has none), token exchange, agents, audit queries;
 * - JWT verification against the server's JWKS with `jose`;
 * - the signing-key procedure an operator holding the database *and* the default provider's key file could
 *   follow: derive the local KEK (as providers/local.ts does), unwrap `signing_keys.wrapped_private_key` under
 *   the binding of auth/signing-keys.ts, and sign tokens with it. The suites use it as the positive control of
 *   the "a database dump cannot mint a token" test and to craft expired and otherwise odd tokens;
 * - reading database rows while the server runs (PostgreSQL) or after it stopped (PGlite).
 */
import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createLocalJWKSet, jwtVerify, SignJWT, type JWTPayload, type JSONWebKeySet } from "jose";
import { encodeContext, open } from "@shardvault/crypto";
import { api, type Api, type ApiResponse, UUID } from "./harness.js";
import { withClient, type Deployment } from "./postgres.js";
import { localKek, type Queryer } from "./mpc-support.js";

// ---------------------------------------------------------------------------------------------------------
// Requests

/** PATCH with a JSON body (the harness client offers get/post/put/delete). */
export const patch = (client: Api, path: string, body: unknown) => client.call("PATCH", path, body);

/** `POST /v1/auth/api-key-token`, asserting 200. */
export async function userToken(url: string, apiKey: string): Promise<{ access_token: string; token_type: string; expires_in: number }> {
  const res = await api(url).post("/v1/auth/api-key-token", { api_key: apiKey });
  assert.equal(res.status, 200, `api-key-token: ${res.text}`);
  return res.body;
}

/** `POST /v1/auth/agent-token`, asserting 200. */
export async function agentToken(
  url: string,
  apiKey: string,
  agentId?: string,
): Promise<{ access_token: string; token_type: string; expires_in: number; agent_id: string; vault_ids: string[] }> {
  const res = await api(url).post("/v1/auth/agent-token", { api_key: apiKey, ...(agentId === undefined ? {} : { agent_id: agentId }) });
  assert.equal(res.status, 200, `agent-token: ${res.text}`);
  return res.body;
}

export interface CreatedAgent {
  agent: {
    id: string;
    name: string;
    description: string;
    scopes: string[];
    vault_ids: string[];
    is_active: boolean;
    key_prefix: string;
    token_ttl_seconds: number | null;
    expires_at: string | null;
    created_by: string;
    created_at: string;
    last_used_at: string | null;
  };
  api_key: string;
}

/** `POST /v1/agents`, asserting 201. */
export async function createAgent(admin: Api, body: Record<string, unknown>): Promise<CreatedAgent> {
  const res = await admin.post("/v1/agents", body);
  assert.equal(res.status, 201, `create agent: ${res.text}`);
  return res.body;
}

/** `POST /v1/vaults`, asserting 201; answers the vault. */
export async function makeVault(admin: Api, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await admin.post("/v1/vaults", { name, ...extra });
  assert.equal(res.status, 201, `create vault: ${res.text}`);
  return res.body;
}

/** `POST /v1/vaults/{vault}/policies` granting an agent (or user) `permissions` on `pattern`, asserting 201; answers the policy. */
export async function grant(
  admin: Api,
  vaultId: string,
  principal: { type: "agent" | "user"; id: string },
  permissions: string[] = ["read", "write", "delete", "rotate"],
  extra: Record<string, unknown> = {},
): Promise<any> {
  const res = await admin.post(`/v1/vaults/${vaultId}/policies`, {
    secret_path_pattern: "**",
    principal_type: principal.type,
    principal_id: principal.id,
    permissions,
    ...extra,
  });
  assert.equal(res.status, 201, `create policy: ${res.text}`);
  return res.body;
}

export interface AuditEvent {
  id: string;
  action: string;
  actor_id: string;
  actor_type: string;
  resource_type: string;
  resource_id: string;
  org_id: string;
  details: Record<string, unknown>;
  ip_address: string | null;
  created_at: string;
  integrity_hash: string | null;
  prev_event_id: string | null;
}

/** `GET /v1/audit/events?…`, asserting 200. */
export async function auditQuery(admin: Api, query: Record<string, string | number | undefined> = {}): Promise<{ events: AuditEvent[]; count: number; res: ApiResponse }> {
  const entries = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined);
  const qs = new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
  const res = await admin.get(`/v1/audit/events${qs ? `?${qs}` : ""}`);
  assert.equal(res.status, 200, `audit: ${res.text}`);
  return { events: res.body.events, count: res.body.count, res };
}

/** Every audit event of the caller's organization (newest first), paging through 1000 at a time. */
export async function allAuditEvents(admin: Api): Promise<AuditEvent[]> {
  const all: AuditEvent[] = [];
  for (let offset = 0; ; offset += 1000) {
    const { events, count } = await auditQuery(admin, { limit: 1000, offset });
    all.push(...events);
    if (events.length === 0 || all.length >= count) return all;
  }
}

// ---------------------------------------------------------------------------------------------------------
// JWTs

/** The server's JWKS (`GET /.well-known/jwks.json`), asserting its shape: Ed25519 public keys only. */
export async function fetchJwks(url: string): Promise<JSONWebKeySet> {
  const res = await api(url).get("/.well-known/jwks.json");
  assert.equal(res.status, 200, res.text);
  assert.ok(Array.isArray(res.body.keys) && res.body.keys.length >= 1, res.text);
  for (const key of res.body.keys) {
    assert.equal(key.kty, "OKP", res.text);
    assert.equal(key.crv, "Ed25519", res.text);
    assert.equal(key.alg, "EdDSA", res.text);
    assert.equal(typeof key.x, "string");
    assert.equal(typeof key.kid, "string");
    assert.ok(!("d" in key), "the JWKS publishes a private key (d)");
  }
  return res.body;
}

/** Verifies `token` with jose against the JWKS, EdDSA only; answers the payload and header. */
export async function verifyWithJwks(token: string, jwks: JSONWebKeySet) {
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ["EdDSA"] });
  assert.equal(protectedHeader.alg, "EdDSA");
  return { payload, protectedHeader };
}

/** Asserts the claims of a user token. */
export function assertUserClaims(payload: JWTPayload, userId: string | undefined, expiresIn: number): void {
  assert.match(String(payload.sub), /^user:[0-9a-f-]{36}$/);
  if (userId) assert.equal(payload.sub, `user:${userId}`);
  assert.match(String(payload.org), UUID);
  assert.equal(typeof payload.exp, "number");
  assert.equal(typeof payload.iat, "number");
  assert.equal(payload.exp! - payload.iat!, expiresIn, "exp - iat is the announced expires_in");
}

/** Asserts the claims of an agent token. */
export function assertAgentClaims(payload: JWTPayload, agentId: string, scopes: string[], vaultIds: string[], expiresIn: number): void {
  assert.equal(payload.sub, `agent:${agentId}`);
  assert.match(String(payload.org), UUID);
  assert.deepEqual(payload.scopes, scopes);
  assert.deepEqual([...(payload.vault_ids as string[])].sort(), [...vaultIds].sort());
  assert.equal(payload.exp! - payload.iat!, expiresIn, "exp - iat is the announced expires_in");
}

/** base64url of a string or bytes. */
export const b64u = (data: string | Uint8Array) => Buffer.from(data).toString("base64url");

/** A JWT with the given header and payload and an arbitrary signature part. */
export const unsignedJwt = (header: object, payload: object, signature = "") => `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}.${signature}`;

// ---------------------------------------------------------------------------------------------------------
// The signing key

export interface SigningKeyRow {
  kid: string;
  kek_slot: string;
  kek_id: string;
  wrapped_private_key: Buffer;
  public_jwk: Record<string, unknown>;
}

export interface DumpRows {
  signingKeys: SigningKeyRow[];
  /** The bootstrap organization, its admin user and the admin key's id. */
  bootstrap: { org_id: string; admin_user_id: string; admin_key_id: string };
  agents: Array<{ id: string; org_id: string; key_generation: number }>;
  apiKeys: Array<{ id: string; org_id: string; user_id: string; is_active: boolean }>;
}

async function readRows(db: Queryer): Promise<DumpRows> {
  const signingKeys = (await db.query("SELECT kid, kek_slot, kek_id, wrapped_private_key, public_jwk FROM signing_keys ORDER BY created_at DESC")).rows.map(
    (r: any) => ({ ...r, wrapped_private_key: Buffer.from(r.wrapped_private_key) }),
  );
  const [bootstrap] = (await db.query("SELECT org_id, admin_user_id, admin_key_id FROM bootstrap")).rows;
  const agents = (await db.query("SELECT id, org_id, key_generation FROM agents")).rows;
  const apiKeys = (await db.query("SELECT id, org_id, user_id, is_active FROM api_keys")).rows;
  return { signingKeys, bootstrap, agents, apiKeys };
}

/**
 * Runs `fn` on the deployment's database: on PostgreSQL while the server runs; on PGlite the server is
 * stopped first (the folder is single-process) and the database opened here. The caller restarts if needed.
 */
export async function onDatabase<T>(deployment: Deployment, fn: (db: Queryer) => Promise<T>): Promise<T> {
  if (deployment.kind === "postgres") {
    return withClient(deployment.database!.url, (client) => fn({ query: (sql, params) => client.query(sql, params as unknown[]) }));
  }
  for (const server of deployment.servers) await server.stop();
  const db = await PGlite.create(join(deployment.server.dataDir, "pgdata"));
  try {
    return await fn({ query: (sql, params) => db.query(sql, params as unknown[]) as Promise<{ rows: any[] }> });
  } finally {
    await db.close();
  }
}

/** What a copy of the database holds about tokens (see `onDatabase` for PGlite). */
export const dumpRows = (deployment: Deployment) => onDatabase(deployment, readRows);

/** The binding auth/signing-keys.ts wraps the signing key under. */
export const signingKeyBinding = (kid: string, kekId: string) => encodeContext({ purpose: "jwt-signing-key", format: 1, kid, kek_id: kekId });

/**
 * The operator's procedure with the default provider's key file: derive the KEK like providers/local.ts,
 * unwrap the PKCS#8 DER under the binding, import it. Answers the private key and its DER bytes.
 */
export function unwrapSigningKey(row: SigningKeyRow, keyFile: string): { privateKey: KeyObject; der: Buffer } {
  const master = new Uint8Array(readFileSync(keyFile));
  assert.equal(master.length, 32, `${keyFile} holds a 32-byte master key`);
  const kek = localKek(master, row.kek_id);
  const der = open(kek, row.wrapped_private_key, signingKeyBinding(row.kid, row.kek_id));
  return { privateKey: createPrivateKey({ key: der, format: "der", type: "pkcs8" }), der };
}

/** The raw 32-byte public key (JWK `x`) of an Ed25519 private key. */
export const publicX = (privateKey: KeyObject) => String(createPublicKey(privateKey).export({ format: "jwk" }).x);

/** PKCS#8 DER of an Ed25519 private key from its 32-byte seed (RFC 8410). */
export const ed25519Pkcs8FromSeed = (seed: Uint8Array) => Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);

/** The 32-byte seed inside an Ed25519 PKCS#8 DER. */
export const seedOf = (der: Uint8Array) => Buffer.from(der.subarray(der.length - 32));

export interface MintOptions {
  kid: string;
  sub: string;
  claims: Record<string, unknown>;
  issuer?: string;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Seconds since the epoch; default iat + 300. */
  exp?: number;
}

/** Signs a JWT the way auth/tokens.ts does (EdDSA, kid, typ JWT, issuer shardvault, jti), with `key`. */
export function mintToken(key: KeyObject, opts: MintOptions): Promise<string> {
  const iat = opts.iat ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ ...opts.claims })
    .setProtectedHeader({ alg: "EdDSA", kid: opts.kid, typ: "JWT" })
    .setSubject(opts.sub)
    .setIssuer(opts.issuer ?? "shardvault")
    .setIssuedAt(iat)
    .setJti(crypto.randomUUID())
    .setExpirationTime(opts.exp ?? iat + 300)
    .sign(key);
}

/** The local providers' key file of `slot` for a server started without SHARDVAULT_KEYS_DIR. */
export const defaultKeyFile = (dataDir: string, slot = "gcp") => join(dataDir, "keys", `${slot}.key`);
