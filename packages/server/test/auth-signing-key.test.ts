/**
 * The token signing key, on the embedded database (PGlite) and on PostgreSQL.
 *
 * - The Ed25519 private key is stored only wrapped by the default key provider: from a copy of the database
 *   (the `signing_keys` row) no token can be minted. The dump attacker tries `wrapped_private_key` whole and
 *   every window of it of 32 bytes or more, as PKCS#8 DER and as a raw 32-byte seed, and as an HMAC secret;
 *   no candidate's public key is the published one, and the server refuses every token signed with one.
 *   Neither the seed nor the DER is anywhere in the database (nor, on PGlite, in any file of the data folder
 *   other than… none: the key file holds the provider's master key, not the signing key).
 * - Positive control (proves the procedure): with the default provider's key file (`<keys dir>/gcp.key`), the
 *   KEK derived as providers/local.ts does and the binding of auth/signing-keys.ts, the row unwraps to the
 *   published key, and a user token and an agent token minted with it ARE accepted.
 * - With that key: an expired token (exp in the past) is 401 `the token has expired`; a token from the wrong
 *   issuer, without `key_id`, naming a revoked key, another organization, an old agent key generation, or an
 *   unknown subject kind is 401.
 * - The server's output holds no key, token or key material.
 */
import assert from "node:assert/strict";
import { createHmac, createPrivateKey, randomUUID, type KeyObject } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { scanFiles, scanTables, type Needle } from "./support/mpc-support.js";
import {
  agentToken,
  b64u,
  createAgent,
  defaultKeyFile,
  dumpRows,
  ed25519Pkcs8FromSeed,
  fetchJwks,
  makeVault,
  mintToken,
  onDatabase,
  publicX,
  seedOf,
  unwrapSigningKey,
  userToken,
  verifyWithJwks,
  type DumpRows,
} from "./support/auth-support.js";

/** Every way the dump attacker can turn bytes into an Ed25519 private key. */
function candidateKeys(wrapped: Buffer): Array<{ label: string; key: KeyObject }> {
  const out: Array<{ label: string; key: KeyObject }> = [];
  const tryImport = (label: string, make: () => KeyObject) => {
    try {
      const key = make();
      if (key.asymmetricKeyType === "ed25519") out.push({ label, key });
    } catch {
      // Not a key: expected for almost every window.
    }
  };
  for (let length = wrapped.length; length >= 32; length--) {
    for (let start = 0; start + length <= wrapped.length; start++) {
      const window = wrapped.subarray(start, start + length);
      const where = `bytes ${start}..${start + length}`;
      tryImport(`${where} as PKCS#8 DER`, () => createPrivateKey({ key: window, format: "der", type: "pkcs8" }));
      if (length === 32) tryImport(`${where} as a raw seed`, () => createPrivateKey({ key: ed25519Pkcs8FromSeed(window), format: "der", type: "pkcs8" }));
    }
  }
  return out;
}

for (const kind of DATABASE_KINDS) {
  describe(`auth-signing-key on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let url: string;
    let admin: Api;
    let rows: DumpRows;
    let agentId: string;
    let revokedKeyId: string;
    /** The published public key (JWK x) and kid. */
    let kid: string;
    let publishedX: string;
    const sensitive: string[] = [];
    const keep = <T extends string>(s: T) => (sensitive.push(s), s);

    before(async () => {
      deployment = await deploy(kind);
      keep(deployment.server.adminKey);
      admin = api(deployment.server.url, deployment.server.adminKey);
      await makeVault(admin, "signing-key");
      const agent = await createAgent(admin, { name: "minted-agent", scopes: ["secrets:read"] });
      keep(agent.api_key);
      agentId = agent.agent.id;
      const extra = await admin.post("/v1/auth/api-keys", { name: "revoked" });
      assert.equal(extra.status, 201, extra.text);
      keep(extra.body.api_key);
      revokedKeyId = extra.body.key.id;
      assert.equal((await admin.delete(`/v1/auth/api-keys/${revokedKeyId}`)).status, 204);
      const jwks = await fetchJwks(deployment.server.url);
      assert.equal(jwks.keys.length, 1);
      kid = jwks.keys[0]!.kid!;
      publishedX = jwks.keys[0]!.x!;
      // The dump: PostgreSQL is read while the server runs; PGlite after it stopped, then it restarts.
      rows = await dumpRows(deployment);
      if (kind === "pglite") await deployment.restart();
      url = deployment.servers.at(-1)!.url;
      admin = api(url, deployment.server.adminKey);
    });

    after(async () => {
      await deployment?.dispose();
    });

    test("one signing key row: wrapped by the default provider, its public JWK is the published one", () => {
      assert.equal(rows.signingKeys.length, 1);
      const row = rows.signingKeys[0]!;
      assert.equal(row.kid, kid);
      assert.equal(row.kek_slot, "gcp", "wrapped by the default provider slot");
      assert.match(row.kek_id, /^local:[0-9a-f-]{36}$/);
      assert.equal(row.public_jwk.x, publishedX);
      assert.ok(!("d" in row.public_jwk), "the stored public JWK holds the private part");
      // A 48-byte PKCS#8 DER sealed with AES-256-GCM: version byte, IV, ciphertext, tag.
      assert.equal(row.wrapped_private_key.length, 1 + 12 + 48 + 16);
    });

    test("the database dump cannot mint a token: no window of wrapped_private_key is the signing key", async () => {
      const row = rows.signingKeys[0]!;
      const wrapped = row.wrapped_private_key;
      const candidates = candidateKeys(wrapped);
      // Every 32-byte window imports as a seed; none of them is the key.
      assert.ok(candidates.length >= wrapped.length - 31, `${candidates.length} candidate keys`);
      for (const { label, key } of candidates) assert.notEqual(publicX(key), publishedX, `${label} is the signing key`);

      // And the server agrees: tokens signed with the candidates (and HMACs keyed with the blob) are 401.
      const now = Math.floor(Date.now() / 1000);
      const claims = { org: rows.bootstrap.org_id, key_id: rows.bootstrap.admin_key_id };
      const sub = `user:${rows.bootstrap.admin_user_id}`;
      const tokens: Array<[string, string]> = [];
      for (const { label, key } of candidates) tokens.push([label, await mintToken(key, { kid, sub, claims, iat: now })]);
      const payload = b64u(JSON.stringify({ sub, ...claims, iss: "shardvault", iat: now, exp: now + 300 }));
      for (const alg of ["HS256", "HS512"] as const) {
        const head = b64u(JSON.stringify({ alg, typ: "JWT", kid }));
        const mac = createHmac(alg === "HS256" ? "sha256" : "sha512", wrapped).update(`${head}.${payload}`).digest("base64url");
        tokens.push([`${alg} keyed with wrapped_private_key`, `${head}.${payload}.${mac}`]);
      }
      for (const [label, token] of tokens) {
        keep(token);
        assertProblem(await api(url, token).get("/v1/vaults"), 401, "unauthorized", undefined, label);
      }
    });

    test("positive control: with the key file the row unwraps to the published key, and minted tokens are accepted", async () => {
      const row = rows.signingKeys[0]!;
      const { privateKey, der } = unwrapSigningKey(row, defaultKeyFile(deployment.server.dataDir, row.kek_slot));
      assert.equal(publicX(privateKey), publishedX, "the unwrapped key is the published one");
      const now = Math.floor(Date.now() / 1000);

      const user = keep(
        await mintToken(privateKey, { kid, sub: `user:${rows.bootstrap.admin_user_id}`, claims: { org: rows.bootstrap.org_id, key_id: rows.bootstrap.admin_key_id }, iat: now }),
      );
      await verifyWithJwks(user, await fetchJwks(url));
      const vaults = await api(url, user).get("/v1/vaults");
      assert.equal(vaults.status, 200, `a token minted with the unwrapped key is accepted: ${vaults.text}`);

      const agentRow = rows.agents.find((a) => a.id === agentId)!;
      const agent = keep(
        await mintToken(privateKey, { kid, sub: `agent:${agentId}`, claims: { org: agentRow.org_id, gen: agentRow.key_generation, scopes: [], vault_ids: [] }, iat: now }),
      );
      const me = await api(url, agent).get("/v1/agents/me");
      assert.equal(me.status, 200, me.text);
      assert.equal(me.body.id, agentId);

      // The key exists in the clear nowhere in the database (on PGlite: nor in any file of the data folder).
      const seed = seedOf(der);
      const needles: Needle[] = [
        { label: "seed", bytes: seed },
        { label: "PKCS#8 DER", bytes: der },
        { label: "seed hex", bytes: Buffer.from(seed.toString("hex")) },
        { label: "seed base64url (JWK d)", bytes: Buffer.from(seed.toString("base64url")) },
        { label: "seed base64", bytes: Buffer.from(seed.toString("base64").replace(/=+$/, "")) },
      ];
      const scan = await onDatabase(deployment, (db) => scanTables(db, needles));
      assert.ok(scan.tables.includes("signing_keys") && scan.rows > 0);
      assert.deepEqual(scan.hits, [], "the signing key is stored in the clear");
      if (kind === "pglite") {
        assert.deepEqual(scanFiles(deployment.server.dataDir, needles), [], "the signing key is in a file of the data folder");
        await deployment.restart();
        url = deployment.servers.at(-1)!.url;
        admin = api(url, deployment.server.adminKey);
      }
      sensitive.push(seed.toString("hex"), seed.toString("base64url"));
    });

    test("tokens minted with the real key but expired, mis-issued or naming revoked or foreign principals: 401", async () => {
      const row = rows.signingKeys[0]!;
      const { privateKey } = unwrapSigningKey(row, defaultKeyFile(deployment.server.dataDir, row.kek_slot));
      const now = Math.floor(Date.now() / 1000);
      const sub = `user:${rows.bootstrap.admin_user_id}`;
      const claims = { org: rows.bootstrap.org_id, key_id: rows.bootstrap.admin_key_id };
      const agentRow = rows.agents.find((a) => a.id === agentId)!;
      const agentClaims = { org: agentRow.org_id, gen: agentRow.key_generation, scopes: [], vault_ids: [] };
      const mint = (opts: Partial<Parameters<typeof mintToken>[1]>) => mintToken(privateKey, { kid, sub, claims, iat: now, ...opts }).then(keep);

      // Control: the same shape, in time, is accepted.
      assert.equal((await api(url, await mint({})).get("/v1/vaults")).status, 200);

      const expired = await mint({ iat: now - 7200, exp: now - 3600 });
      assertProblem(await api(url, expired).get("/v1/vaults"), 401, "unauthorized", /expired/, "expired user token");
      const justExpired = await mint({ iat: now - 120, exp: now - 1 });
      assertProblem(await api(url, justExpired).get("/v1/vaults"), 401, "unauthorized", /expired/, "just expired");
      const expiredAgent = await mint({ sub: `agent:${agentId}`, claims: agentClaims, iat: now - 7200, exp: now - 60 });
      assertProblem(await api(url, expiredAgent).get("/v1/agents/me"), 401, "unauthorized", /expired/, "expired agent token");

      const refused: Array<[string, Promise<string>]> = [
        ["wrong issuer", mint({ issuer: "someone-else" })],
        ["no key_id", mint({ claims: { org: claims.org } })],
        ["revoked key_id", mint({ claims: { ...claims, key_id: revokedKeyId } })],
        ["unknown key_id", mint({ claims: { ...claims, key_id: randomUUID() } })],
        ["another organization", mint({ claims: { ...claims, org: randomUUID() } })],
        ["another user", mint({ sub: `user:${randomUUID()}` })],
        ["no org", mint({ claims: { key_id: claims.key_id } })],
        ["unknown subject kind", mint({ sub: `admin:${rows.bootstrap.admin_user_id}` })],
        ["subject without kind", mint({ sub: rows.bootstrap.admin_user_id })],
        ["agent, old key generation", mint({ sub: `agent:${agentId}`, claims: { ...agentClaims, gen: agentRow.key_generation - 1 } })],
        ["agent, next key generation", mint({ sub: `agent:${agentId}`, claims: { ...agentClaims, gen: agentRow.key_generation + 1 } })],
        ["agent, no generation", mint({ sub: `agent:${agentId}`, claims: { org: agentRow.org_id } })],
        ["unknown agent", mint({ sub: `agent:${randomUUID()}`, claims: agentClaims })],
        ["agent of another organization", mint({ sub: `agent:${agentId}`, claims: { ...agentClaims, org: randomUUID() } })],
        ["not yet valid", mintToken(privateKey, { kid, sub, claims: { ...claims, nbf: now + 3600 }, iat: now }).then(keep)],
      ];
      for (const [label, pending] of refused) {
        assertProblem(await api(url, await pending).get("/v1/vaults"), 401, "unauthorized", undefined, label);
      }
      // The right key under another kid is not looked up by key material: unknown kid, refused.
      const otherKid = await mintToken(privateKey, { kid: randomUUID(), sub, claims, iat: now });
      keep(otherKid);
      assertProblem(await api(url, otherKid).get("/v1/vaults"), 401, "unauthorized", undefined, "unknown kid");

      // Rotating the agent's key ends a minted token of the old generation too.
      const rotated = await admin.post(`/v1/agents/${agentId}/rotate-key`);
      assert.equal(rotated.status, 200, rotated.text);
      keep(rotated.body.api_key);
      const before = await mint({ sub: `agent:${agentId}`, claims: agentClaims });
      assertProblem(await api(url, before).get("/v1/agents/me"), 401, "unauthorized", undefined, "generation before rotate-key");
      const fresh = await agentToken(url, rotated.body.api_key);
      keep(fresh.access_token);
      assert.equal((await api(url, fresh.access_token).get("/v1/agents/me")).status, 200);
      keep((await userToken(url, deployment.server.adminKey)).access_token);
    });

    test("the server's output holds no key, token or key material", async () => {
      for (const server of deployment.servers) {
        await server.stop();
        assertNoLeak(server.output(), sensitive);
      }
    });
  });
}
