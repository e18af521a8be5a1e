/**
 * MPC secret storage through the REST API, on the embedded database (PGlite, local provider slots) and on
 * PostgreSQL, the seed document's flows taken literally:
 *
 * - enabling each custody mode with both body shapes (`custody_mode` and the typed SDK's `mpc_custody`, its
 *   `2-of-2` / `2-of-3` aliases), on an existing vault and at creation; the vault answer (`mpc_custody`,
 *   `mpc_threshold` 2, `mpc_providers` in share order); the same mode again is a no-op 200, another is 409;
 *   conflicting fields, unknown modes, provider lists (custom order, trailing `client`, unknown slot,
 *   duplicates, wrong counts) are refused with 400 and change nothing;
 * - the seed's `api-keys/stripe` flow per mode: `client_share` returned once on PUT and rotate, reads with and
 *   without the share (latest, `?version=`, the secret-version route), version listings without values or
 *   shares, an agent reading with `X-Client-Share`;
 * - re-protection of a vault that already holds secrets, per mode: `client_shares` for every live version,
 *   older versions readable with them, soft-deleted versions crypto-shredded (checked in the rows on
 *   PostgreSQL), version numbers continuing;
 * - plan gating (`SHARDVAULT_PLAN=pro` → 403 resource_limit_exceeded / plan_required; `business` allowed) and
 *   `reprotect_max_versions` (409 vault_too_large, nothing changed; at the limit it works);
 * - a deployment lacking a default slot (`azure`) refuses the mode that needs it, naming the slot;
 * - client shares are stored nowhere (every row of every table; on PGlite also every file of the data folder)
 *   and the server output holds no value, share or key.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import type pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { api, assertNoLeak, assertProblem, DATABASE_KINDS, secretValue, type Api, type DatabaseKind } from "./support/harness.js";
import { connect, deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { grant } from "./support/auth-support.js";
import {
  assertMpcVault,
  assertShareShape,
  assertValue,
  createVault,
  enableMpc,
  mode,
  MODES,
  putSecret,
  readSecret,
  scanFiles,
  scanTables,
  secretUrl,
  shareNeedles,
  writeLocalConfig,
  type ModeInfo,
} from "./support/mpc-support.js";

const SEED_PATH = "api-keys/stripe";
const SEED_VALUE = "sk_live_abc123...";

/** Where the client shares are searched for once the suite is done (every share any answer carried). */
async function assertSharesStoredNowhere(kind: DatabaseKind, deployment: Deployment, shares: readonly string[]): Promise<void> {
  assert.ok(shares.length > 0);
  const needles = shares.flatMap((s, i) => shareNeedles(s, `share #${i}`));
  if (kind === "postgres") {
    const sql = await connect(deployment.database!.url);
    try {
      const { hits, tables, rows } = await scanTables(sql, needles);
      assert.ok(tables.includes("secret_dek_shares") && tables.includes("audit_events") && rows > 0);
      assert.deepEqual(hits, [], "a client share is stored in the database");
    } finally {
      await sql.end();
    }
    return;
  }
  // PGlite: the server has stopped; open its database here, scan the rows, then every file of the data folder.
  const db = await PGlite.create(join(deployment.server.dataDir, "pgdata"));
  try {
    const { hits, tables, rows } = await scanTables(db, needles);
    assert.ok(tables.includes("secret_dek_shares") && rows > 0);
    assert.deepEqual(hits, [], "a client share is stored in the database");
  } finally {
    await db.close();
  }
  assert.deepEqual(scanFiles(deployment.server.dataDir, needles), [], "a client share is in a file of the data folder");
}

for (const kind of DATABASE_KINDS) {
  describe(`mpc flows on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let admin: Api;
    let sql: pg.Client | undefined;
    /** Values, shares and keys: none may appear in the server's output. */
    const sensitive: string[] = [];
    const shares: string[] = [];
    const value = (label: string) => {
      const v = secretValue(label);
      sensitive.push(v);
      return v;
    };
    const keep = (share: string | undefined) => {
      if (share) {
        shares.push(share);
        sensitive.push(share);
      }
      return share;
    };

    before(async () => {
      deployment = await deploy(kind);
      sensitive.push(deployment.server.adminKey, SEED_VALUE);
      admin = api(deployment.server.url, deployment.server.adminKey);
      if (kind === "postgres") sql = await connect(deployment.database!.url);
    });

    after(async () => {
      await sql?.end();
      await deployment?.dispose();
    });

    test("each mode is enabled with either body shape; the vault shows it; same mode again is a no-op, another mode 409", async () => {
      const bodies: Array<{ body: Record<string, unknown>; m: ModeInfo }> = [
        { body: { custody_mode: "2of2_client_custody" }, m: mode("2of2_client_custody") },
        { body: { custody_mode: "2of3_multi_hsm" }, m: mode("2of3_multi_hsm") },
        { body: { custody_mode: "2of3_client_custody" }, m: mode("2of3_client_custody") },
        { body: { mpc_custody: "2-of-2" }, m: mode("2of2_client_custody") },
        { body: { mpc_custody: "2-of-3" }, m: mode("2of3_multi_hsm") },
        { body: { mpc_custody: "2of3_client_custody" }, m: mode("2of3_client_custody") },
        { body: { mpc_custody: "2of2_client_custody" }, m: mode("2of2_client_custody") },
        { body: { mpc_custody: "2of3_multi_hsm", custody_mode: "2of3_multi_hsm" }, m: mode("2of3_multi_hsm") },
        { body: { mpc_custody: "2-of-2", custody_mode: "2of2_client_custody" }, m: mode("2of2_client_custody") },
        { body: { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure"] }, m: mode("2of3_multi_hsm") },
        { body: { custody_mode: "2of3_client_custody", providers: ["gcp", "aws", "client"] }, m: mode("2of3_client_custody") },
      ];
      for (const { body, m } of bodies) {
        const context = JSON.stringify(body);
        const vault = await createVault(admin, `enable ${context}`);
        for (const key of ["mpc_custody", "mpc_threshold", "mpc_providers"]) assert.ok(!(key in vault), `${key} present while MPC is off`);
        const enabled = await enableMpc(admin, vault.id, body);
        assertMpcVault(enabled, m, m.providers, context);
        assert.equal(enabled.id, vault.id);
        assert.equal(enabled.name, vault.name);
        // An empty vault has nothing to re-protect: no shares to hand out.
        assert.ok(!("client_shares" in enabled) || (Array.isArray(enabled.client_shares) && enabled.client_shares.length === 0), context);
        assertMpcVault((await admin.get(`/v1/vaults/${vault.id}`)).body, m, m.providers, context);
        const listed = (await admin.get("/v1/vaults")).body.vaults.find((v: any) => v.id === vault.id);
        assertMpcVault(listed, m, m.providers, context);

        // The same mode again, in either shape: 200, nothing changes.
        for (const again of [{ custody_mode: m.name }, { mpc_custody: m.name }]) {
          const res = await admin.post(`/v1/vaults/${vault.id}/mpc`, again);
          assert.equal(res.status, 200, res.text);
          assertMpcVault(res.body, m, m.providers, `${context} again`);
        }
        // Any other mode: 409, nothing changes.
        for (const other of MODES.filter((o) => o.name !== m.name)) {
          assertProblem(await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: other.name }), 409, "mpc_mode_immutable", undefined, context);
        }
        assertMpcVault((await admin.get(`/v1/vaults/${vault.id}`)).body, m, m.providers, `${context} after 409`);
      }
    });

    test("MPC at vault creation (mpc_custody or custody_mode on POST /v1/vaults)", async () => {
      for (const [body, m] of [
        [{ mpc_custody: "2-of-2" }, mode("2of2_client_custody")],
        [{ mpc_custody: "2-of-3" }, mode("2of3_multi_hsm")],
        [{ mpc_custody: "2of3_client_custody" }, mode("2of3_client_custody")],
        [{ custody_mode: "2of3_client_custody" }, mode("2of3_client_custody")],
        [{ custody_mode: "2of3_multi_hsm", providers: ["azure", "gcp", "aws"] }, mode("2of3_multi_hsm")],
      ] as const) {
        const vault = await createVault(admin, `created ${JSON.stringify(body)}`, body);
        const providers = "providers" in body ? [...body.providers] : m.providers;
        assertMpcVault(vault, m, providers, JSON.stringify(body));
        const v = value("created");
        const written = await putSecret(admin, vault.id, "at/creation", v, m);
        keep(written.client_share);
        assertValue(await readSecret(admin, vault.id, "at/creation", written.client_share), v, 1);
      }
    });

    test("refused requests change nothing: conflicting fields, unknown modes, bad provider lists", async () => {
      const vault = await createVault(admin, "refusals");
      const url = `/v1/vaults/${vault.id}/mpc`;
      assertProblem(await admin.post(url, { custody_mode: "2of3_multi_hsm", mpc_custody: "2-of-2" }), 400, "conflicting_fields");
      assertProblem(await admin.post(url, { custody_mode: "2of2_client_custody", mpc_custody: "2of3_client_custody" }), 400, "conflicting_fields");
      assertProblem(await admin.post(url, { custody_mode: "2of2_client_custody", mpc_custody: "2-of-3" }), 400, "conflicting_fields");
      for (const body of [
        {},
        { providers: ["gcp"] },
        { custody_mode: "3of5_multi_hsm" },
        { custody_mode: "2-of-2" },
        { mpc_custody: "2-of-5" },
        { mpc_custody: "" },
        { custody_mode: 2 },
        { custody_mode: "2of3_multi_hsm", providers: "gcp,aws,azure" },
        // duplicates, wrong counts, `client` where it cannot be
        { custody_mode: "2of3_multi_hsm", providers: ["gcp", "gcp", "aws"] },
        { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws"] },
        { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "azure", "azure"] },
        { custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "client"] },
        { custody_mode: "2of3_multi_hsm", providers: [] },
        { custody_mode: "2of2_client_custody", providers: ["gcp", "aws"] },
        { custody_mode: "2of2_client_custody", providers: ["client"] },
        { custody_mode: "2of2_client_custody", providers: [] },
        { custody_mode: "2of2_client_custody", providers: ["client", "gcp"] },
        { custody_mode: "2of3_client_custody", providers: ["gcp"] },
        { custody_mode: "2of3_client_custody", providers: ["gcp", "gcp"] },
        { custody_mode: "2of3_client_custody", providers: ["client", "gcp", "aws"] },
        { custody_mode: "2of3_client_custody", providers: ["gcp", "aws", "azure"] },
        { custody_mode: "2of3_client_custody", providers: ["gcp", "aws", "client", "client"] },
      ]) {
        assertProblem(await admin.post(url, body), 400, "validation_error", undefined, JSON.stringify(body));
      }
      // An unknown slot is named.
      for (const [body, slot] of [
        [{ custody_mode: "2of3_multi_hsm", providers: ["gcp", "aws", "vault9"] }, "vault9"],
        [{ custody_mode: "2of2_client_custody", providers: ["hsm"] }, "hsm"],
        [{ custody_mode: "2of2_client_custody", providers: ["oracle", "client"] }, "oracle"],
        [{ custody_mode: "2of3_client_custody", providers: ["ibm", "aws", "client"] }, "ibm"],
        [{ mpc_custody: "2-of-3", providers: ["gcp", "nope", "aws"] }, "nope"],
      ] as const) {
        assertProblem(await admin.post(url, body), 400, "provider_not_configured", new RegExp(`\\b${slot}\\b`), JSON.stringify(body));
      }
      // Still plain: no MPC fields, writes and reads need no share.
      const after = (await admin.get(`/v1/vaults/${vault.id}`)).body;
      assert.ok(!("mpc_custody" in after), JSON.stringify(after));
      const v = value("still-plain");
      await putSecret(admin, vault.id, "still/plain", v);
      assertValue(await readSecret(admin, vault.id, "still/plain"), v);

      // The same refusals on POST /v1/vaults create no vault.
      const before = (await admin.get("/v1/vaults")).body.vaults.length;
      assertProblem(await admin.post("/v1/vaults", { name: "x", custody_mode: "2of3_multi_hsm", mpc_custody: "2-of-2" }), 400, "conflicting_fields");
      assertProblem(await admin.post("/v1/vaults", { name: "x", mpc_custody: "2-of-3", providers: ["gcp", "aws", "zz"] }), 400, "provider_not_configured", /\bzz\b/);
      assertProblem(await admin.post("/v1/vaults", { name: "x", custody_mode: "2of3_client_custody", providers: ["gcp", "gcp"] }), 400, "validation_error");
      assert.equal((await admin.get("/v1/vaults")).body.vaults.length, before);

      // Unknown vault.
      assertProblem(await admin.post("/v1/vaults/00000000-0000-4000-8000-000000000000/mpc", { custody_mode: "2of3_multi_hsm" }), 404, "vault_not_found");
    });

    test("custom provider order: shares follow mpc_providers, and the client's share is last", async () => {
      for (const [m, providers, expected] of [
        [mode("2of3_multi_hsm"), ["aws", "azure", "gcp"], ["aws", "azure", "gcp"]],
        [mode("2of3_client_custody"), ["azure", "gcp"], ["azure", "gcp", "client"]],
        [mode("2of3_client_custody"), ["aws", "azure", "client"], ["aws", "azure", "client"]],
        [mode("2of2_client_custody"), ["aws"], ["aws", "client"]],
        [mode("2of2_client_custody"), ["azure", "client"], ["azure", "client"]],
      ] as const) {
        const vault = await createVault(admin, `order ${providers.join(",")}`);
        assertMpcVault(await enableMpc(admin, vault.id, { custody_mode: m.name, providers }), m, [...expected]);
        const v = value("ordered");
        const written = await putSecret(admin, vault.id, "ordered", v, m);
        keep(written.client_share);
        assertValue(await readSecret(admin, vault.id, "ordered", written.client_share), v, 1, `${m.name} ${providers}`);
        if (sql) {
          const rows = await sql.query("SELECT provider, share_index FROM secret_dek_shares WHERE version_id = $1 ORDER BY share_index", [written.id]);
          assert.deepEqual(
            rows.rows.map((r) => [r.provider, r.share_index]),
            expected.filter((p) => p !== "client").map((p, i) => [p, i + 1]),
          );
        }
      }
    });

    for (const m of MODES) {
      test(`the seed's flow, ${m.name}: PUT api-keys/stripe, read with and without the share, versions, rotate`, async () => {
        const vault = await createVault(admin, `seed ${m.name}`, { description: `Vault with ${m.name}` });
        assertMpcVault(await enableMpc(admin, vault.id, { custody_mode: m.name }), m);

        const put1 = await admin.put(secretUrl(vault.id, SEED_PATH), { type: "api_key", value: SEED_VALUE });
        assert.equal(put1.status, 201, put1.text);
        assert.equal(put1.body.path, SEED_PATH);
        assert.equal(put1.body.version, 1);
        assert.equal(put1.body.type, "api_key");
        assert.ok(!("value" in put1.body));
        assert.match(String(put1.headers.get("cache-control")), /no-store/);
        const share1 = keep(put1.body.client_share);
        if (m.clientHoldsShare) assertShareShape(share1, m);
        else assert.ok(!("client_share" in put1.body), put1.text);

        // Read with the share (client modes) / without (multi-HSM).
        const read1 = await readSecret(admin, vault.id, SEED_PATH, share1);
        assertValue(read1, SEED_VALUE, 1, "read with the share");
        assert.equal(read1.body.type, "api_key");
        assert.equal(read1.body.path, SEED_PATH);
        assert.match(String(read1.headers.get("cache-control")), /no-store/);
        const bare = await readSecret(admin, vault.id, SEED_PATH);
        if (m.clientHoldsShare) {
          assertProblem(bare, 400, "client_share_required", /X-Client-Share/);
          assert.ok(!bare.text.includes(SEED_VALUE));
        } else {
          assertValue(bare, SEED_VALUE, 1, "multi-HSM read without a share");
        }
        // The whole-path-encoded spelling names the same secret (and the same share).
        assertValue(await admin.get(`/v1/vaults/${vault.id}/secrets/api-keys%2Fstripe`, { headers: share1 ? { "X-Client-Share": share1 } : {} }), SEED_VALUE, 1);

        // A second version: a new, different share.
        const v2 = value("stripe-v2");
        const put2 = await putSecret(admin, vault.id, SEED_PATH, v2, m, { type: "api_key" });
        assert.equal(put2.version, 2);
        const share2 = keep(put2.client_share);
        if (m.clientHoldsShare) assert.notEqual(share2, share1);
        assertValue(await readSecret(admin, vault.id, SEED_PATH, share2), v2, 2, "latest");
        assertValue(await readSecret(admin, vault.id, SEED_PATH, share1, 1), SEED_VALUE, 1, "?version=1");
        const byRoute = await admin.get(`/v1/vaults/${vault.id}/secret-version/${SEED_PATH}/1`, { headers: share1 ? { "X-Client-Share": share1 } : {} });
        assertValue(byRoute, SEED_VALUE, 1, "secret-version route");
        assertValue(await admin.get(`/v1/vaults/${vault.id}/secret-version/${SEED_PATH}/2`, { headers: share2 ? { "X-Client-Share": share2 } : {} }), v2, 2);
        if (m.clientHoldsShare) {
          // Each version needs its own share.
          assertProblem(await readSecret(admin, vault.id, SEED_PATH, share1), 400, "client_share_mismatch", /version 1\b/);
          assertProblem(await readSecret(admin, vault.id, SEED_PATH, share2, 1), 400, "client_share_mismatch", /version 2\b/);
          assertProblem(await admin.get(`/v1/vaults/${vault.id}/secret-version/${SEED_PATH}/1`), 400, "client_share_required");
        }

        // Listings carry neither values nor shares.
        const versions = await admin.get(`/v1/vaults/${vault.id}/secret-versions/${SEED_PATH}`);
        assert.equal(versions.status, 200, versions.text);
        assert.deepEqual(versions.body.versions.map((v: any) => v.version), [1, 2]);
        const listed = await admin.get(`/v1/vaults/${vault.id}/secrets`);
        assert.deepEqual(listed.body.secrets.map((s: any) => [s.path, s.version]), [[SEED_PATH, 2]]);
        for (const text of [versions.text, listed.text]) {
          assert.ok(!/client_share|"value"/.test(text), text);
          for (const s of [share1, share2, SEED_VALUE, v2]) if (s) assert.ok(!text.includes(s));
        }

        // Rotate-generate: a new random version, with its share in client modes.
        const rotated = await admin.post(`/v1/vaults/${vault.id}/secret-rotate/${SEED_PATH}`, { length: 40, charset: "alphanumeric", type: "api_key" });
        assert.equal(rotated.status, 201, rotated.text);
        assert.equal(rotated.body.version, 3);
        assert.match(String(rotated.headers.get("cache-control")), /no-store/);
        assert.ok(!("value" in rotated.body));
        const share3 = keep(rotated.body.client_share);
        if (m.clientHoldsShare) assertShareShape(share3, m);
        else assert.ok(!("client_share" in rotated.body));
        const read3 = await readSecret(admin, vault.id, SEED_PATH, share3);
        assert.equal(read3.status, 200, read3.text);
        assert.match(read3.body.value, /^[A-Za-z0-9]{40}$/);
        sensitive.push(read3.body.value);
        const bareRotate = await admin.post(`/v1/vaults/${vault.id}/secret-rotate/${SEED_PATH}`);
        assert.equal(bareRotate.status, 201, bareRotate.text);
        const share4 = keep(bareRotate.body.client_share);
        const read4 = await readSecret(admin, vault.id, SEED_PATH, share4);
        assert.match(read4.body.value, /^[0-9a-f]{32}$/);
        sensitive.push(read4.body.value);
        if (m.clientHoldsShare) assertProblem(await readSecret(admin, vault.id, SEED_PATH), 400, "client_share_required");
      });
    }

    test("an agent reads a client-custody secret with X-Client-Share (and needs it)", async () => {
      const m = mode("2of3_client_custody");
      const vault = await createVault(admin, "agent vault", { custody_mode: m.name });
      const v = value("agent");
      const written = await putSecret(admin, vault.id, SEED_PATH, v, m);
      keep(written.client_share);
      const created = await admin.post("/v1/agents", { name: "reader", vault_ids: [vault.id] });
      assert.equal(created.status, 201, created.text);
      sensitive.push(created.body.api_key);
      await grant(admin, vault.id, { type: "agent", id: created.body.agent.id }, ["read"]);
      const token = await api(deployment.server.url).post("/v1/auth/agent-token", { api_key: created.body.api_key });
      assert.equal(token.status, 200, token.text);
      sensitive.push(token.body.access_token);
      const agent = api(deployment.server.url, token.body.access_token);
      assertValue(await readSecret(agent, vault.id, SEED_PATH, written.client_share), v, 1, "agent read");
      assertProblem(await readSecret(agent, vault.id, SEED_PATH), 400, "client_share_required");
      // Enabling MPC is for those who manage the vault.
      const other = await createVault(admin, "agent may not enable");
      assert.equal((await agent.post(`/v1/vaults/${other.id}/mpc`, { custody_mode: m.name })).status >= 400, true);
      assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${other.id}`)).body));
    });

    for (const m of MODES) {
      test(`re-protection when enabling ${m.name} on a vault holding secrets`, async () => {
        const vault = await createVault(admin, `reprotect ${m.name}`);
        const values = new Map<string, string>();
        const write = async (path: string) => {
          const v = value(`rp-${path}`);
          const w = await putSecret(admin, vault.id, path, v);
          values.set(`${path}@${w.version}`, v);
          return w;
        };
        await write("svc/db");
        await write("svc/db");
        await write("svc/api");
        const goneWrite = await write("old/gone");
        assert.equal((await admin.delete(secretUrl(vault.id, "old/gone"))).status, 204);

        const answer = await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: m.name });
        assert.equal(answer.status, 200, answer.text);
        // Shares shown once: the answer must not be cached.
        assert.match(String(answer.headers.get("cache-control")), /no-store/);
        const enabled = answer.body;
        assertMpcVault(enabled, m);
        const byVersion = new Map<string, string>();
        if (m.clientHoldsShare) {
          assert.ok(Array.isArray(enabled.client_shares), JSON.stringify(enabled));
          const listed = enabled.client_shares.map((c: any) => `${c.path}@${c.version}`).sort();
          // Every live version, and no soft-deleted one.
          assert.deepEqual(listed, ["svc/api@1", "svc/db@1", "svc/db@2"]);
          for (const c of enabled.client_shares) {
            assertShareShape(c.client_share, m);
            keep(c.client_share);
            byVersion.set(`${c.path}@${c.version}`, c.client_share);
          }
          assert.equal(new Set(byVersion.values()).size, 3, "shares repeat");
        } else {
          assert.ok(!("client_shares" in enabled) || enabled.client_shares.length === 0, JSON.stringify(enabled));
        }

        // Every re-protected version reads under the new mode, with its own share.
        for (const key of ["svc/db@1", "svc/db@2", "svc/api@1"]) {
          const [path, version] = key.split("@") as [string, string];
          assertValue(await readSecret(admin, vault.id, path, byVersion.get(key), Number(version)), values.get(key)!, Number(version), key);
          if (m.clientHoldsShare) assertProblem(await readSecret(admin, vault.id, path, undefined, Number(version)), 400, "client_share_required", undefined, key);
        }
        assertValue(await readSecret(admin, vault.id, "svc/db", byVersion.get("svc/db@2")), values.get("svc/db@2")!, 2);
        assertValue(await admin.get(`/v1/vaults/${vault.id}/secret-version/svc/db/1`, { headers: m.clientHoldsShare ? { "X-Client-Share": byVersion.get("svc/db@1")! } : {} }), values.get("svc/db@1")!, 1);
        if (m.clientHoldsShare) {
          assertProblem(await readSecret(admin, vault.id, "svc/db", byVersion.get("svc/db@1")), 400, "client_share_mismatch", /version 1\b/);
          assertProblem(await readSecret(admin, vault.id, "svc/db", byVersion.get("svc/api@1")), 400, "client_share_mismatch");
        }
        // The soft-deleted path stays gone.
        assert.equal((await readSecret(admin, vault.id, "old/gone", undefined, 1)).status, 410);

        if (sql) {
          const rows = await sql.query(
            `SELECT v.path, v.version, v.deleted_at IS NOT NULL AS deleted, v.wrapped_dek IS NULL AS no_dek, v.kek_slot, v.kek_id,
                    array(SELECT provider || ':' || share_index FROM secret_dek_shares s WHERE s.version_id = v.id ORDER BY share_index) AS shares
               FROM secret_versions v WHERE v.vault_id = $1 ORDER BY v.path, v.version`,
            [vault.id],
          );
          const expectedShares = m.slots.map((slot, i) => `${slot}:${i + 1}`);
          for (const r of rows.rows) {
            assert.equal(r.no_dek, true, `${r.path}@${r.version} still has a wrapped DEK`);
            if (r.deleted) {
              // Crypto-shredded: no wrapped DEK, no shares.
              assert.deepEqual(r.shares, [], `${r.path}@${r.version}`);
            } else {
              assert.equal(r.kek_slot, null);
              assert.equal(r.kek_id, null);
              assert.deepEqual(r.shares, expectedShares, `${r.path}@${r.version}`);
            }
          }
          assert.equal(rows.rows.filter((r) => r.deleted).length, 1);
          const keks = await sql.query("SELECT provider, share_index FROM vault_mpc_keks WHERE vault_id = $1 ORDER BY share_index", [vault.id]);
          assert.deepEqual(keks.rows.map((r) => [r.provider, r.share_index]), m.slots.map((slot, i) => [slot, i + 1]));
        }

        // New writes continue the numbering (also on the deleted path) under the new mode.
        const again = value("rp-again");
        const w = await putSecret(admin, vault.id, "old/gone", again, m);
        assert.equal(w.version, goneWrite.version + 1);
        keep(w.client_share);
        assertValue(await readSecret(admin, vault.id, "old/gone", w.client_share), again, 2);
        const next = value("rp-next");
        const w3 = await putSecret(admin, vault.id, "svc/db", next, m);
        assert.equal(w3.version, 3);
        keep(w3.client_share);
        assertValue(await readSecret(admin, vault.id, "svc/db", w3.client_share), next, 3);

        // The audit event records the switch, and no share.
        const audit = await admin.get(`/v1/audit/events?action=vault.mpc_enable&resource_id=${vault.id}`);
        assert.equal(audit.status, 200, audit.text);
        assert.equal(audit.body.events.length, 1, audit.text);
        assert.equal(audit.body.events[0].details.custody_mode, m.name);
        assert.equal(audit.body.events[0].details.reprotected_versions, 3);
        for (const s of byVersion.values()) assert.ok(!audit.text.includes(s));
      });
    }

    test("client shares are stored nowhere, and the server output holds no value, share or key", async () => {
      assert.ok(shares.length >= 10, `only ${shares.length} shares collected`);
      await deployment.server.stop();
      assertNoLeak(deployment.server.output(), [...sensitive, ...shares]);
      await assertSharesStoredNowhere(kind, deployment, shares);
    });
  });

  describe(`mpc plan and size limits on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    const deployments: Deployment[] = [];
    const sensitive: string[] = [];

    after(async () => {
      await Promise.all(deployments.map((d) => d.dispose()));
    });

    // A server start costs seconds on PGlite: the plan check runs on PostgreSQL only (it involves no storage).
    test("a pro plan refuses MPC with 403 resource_limit_exceeded / plan_required, creating nothing", { skip: kind === "pglite" && "runs on postgres" }, async () => {
      const d = await deploy(kind, { env: { SHARDVAULT_PLAN: "pro" } });
      deployments.push(d);
      const admin = api(d.server.url, d.server.adminKey);
      sensitive.push(d.server.adminKey);
      const vault = await createVault(admin, "pro vault");
      for (const body of [{ custody_mode: "2of2_client_custody" }, { custody_mode: "2of3_multi_hsm" }, { mpc_custody: "2-of-3" }, { mpc_custody: "2of3_client_custody" }]) {
        const res = await admin.post(`/v1/vaults/${vault.id}/mpc`, body);
        assertProblem(res, 403, "plan_required", /Business|Enterprise/i, JSON.stringify(body));
        assert.equal(res.body.type, "resource_limit_exceeded");
      }
      assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${vault.id}`)).body));
      const res = await admin.post("/v1/vaults", { name: "pro mpc", mpc_custody: "2-of-2" });
      assertProblem(res, 403, "plan_required");
      assert.equal(res.body.type, "resource_limit_exceeded");
      assert.deepEqual((await admin.get("/v1/vaults")).body.vaults.map((v: any) => v.id), [vault.id]);
      // Plain vaults still work.
      const v = secretValue("pro");
      sensitive.push(v);
      await putSecret(admin, vault.id, "plain", v);
      assertValue(await readSecret(admin, vault.id, "plain"), v);
      await d.server.stop();
      assertNoLeak(d.server.output(), sensitive);
    });

    test("reprotect_max_versions: over the limit 409 vault_too_large and nothing changes; at the limit it works; business plan allowed", async () => {
      const config = writeLocalConfig(["gcp", "aws", "azure"], { reprotect_max_versions: 3, plan: "business" });
      const d = await deploy(kind, { env: { SHARDVAULT_CONFIG: config.path } });
      deployments.push(d);
      const admin = api(d.server.url, d.server.adminKey);
      sensitive.push(d.server.adminKey);
      const m = mode("2of3_client_custody");
      const vault = await createVault(admin, "large");
      const values: string[] = [];
      for (const path of ["a", "b", "c", "a"]) {
        const v = secretValue("large");
        values.push(v);
        sensitive.push(v);
        await putSecret(admin, vault.id, path, v);
      }
      const refused = await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: m.name });
      assertProblem(refused, 409, "vault_too_large", /4\b.*3\b|3\b.*4\b/);
      assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${vault.id}`)).body));
      // Still plain: reads without a share, writes without one.
      assertValue(await readSecret(admin, vault.id, "a"), values[3]!, 2);
      assertValue(await readSecret(admin, vault.id, "a", undefined, 1), values[0]!, 1);
      if (kind === "postgres") {
        const sql = await connect(d.database!.url);
        try {
          const shares = await sql.query("SELECT count(*)::int AS n FROM secret_dek_shares WHERE vault_id = $1", [vault.id]);
          assert.equal(shares.rows[0].n, 0);
          const keks = await sql.query("SELECT count(*)::int AS n FROM vault_mpc_keks WHERE vault_id = $1", [vault.id]);
          assert.equal(keks.rows[0].n, 0);
          const plain = await sql.query("SELECT count(*)::int AS n FROM secret_versions WHERE vault_id = $1 AND wrapped_dek IS NOT NULL", [vault.id]);
          assert.equal(plain.rows[0].n, 4);
        } finally {
          await sql.end();
        }
      }
      // Deleting one path brings it to the limit: now it is enabled, with a share for each of the 3 live versions.
      assert.equal((await admin.delete(secretUrl(vault.id, "c"))).status, 204);
      const enabled = await enableMpc(admin, vault.id, { custody_mode: m.name });
      assertMpcVault(enabled, m);
      assert.deepEqual(enabled.client_shares.map((c: any) => `${c.path}@${c.version}`).sort(), ["a@1", "a@2", "b@1"]);
      for (const c of enabled.client_shares) sensitive.push(c.client_share);
      const shareOf = (key: string) => enabled.client_shares.find((c: any) => `${c.path}@${c.version}` === key).client_share;
      assertValue(await readSecret(admin, vault.id, "a", shareOf("a@1"), 1), values[0]!, 1);
      assertValue(await readSecret(admin, vault.id, "b", shareOf("b@1")), values[1]!, 1);
      assertValue(await readSecret(admin, vault.id, "a", shareOf("a@2")), values[3]!, 2);
      await d.server.stop();
      assertNoLeak(d.server.output(), sensitive);
    });
  });
}

describe("mpc on a deployment without an azure slot (pglite)", () => {
  let deployment: Deployment;
  after(async () => deployment?.dispose());

  test("the mode whose default slot is missing is refused naming it; other slots serve it", async () => {
    const config = writeLocalConfig(["gcp", "aws", "backup"]);
    deployment = await deploy("pglite", { env: { SHARDVAULT_CONFIG: config.path } });
    const admin = api(deployment.server.url, deployment.server.adminKey);
    const vault = await createVault(admin, "no azure");
    assertProblem(await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: "2of3_multi_hsm" }), 400, "provider_not_configured", /\bazure\b/);
    assertProblem(await admin.post(`/v1/vaults/${vault.id}/mpc`, { mpc_custody: "2-of-3" }), 400, "provider_not_configured", /\bazure\b/);
    assertProblem(await admin.post("/v1/vaults", { name: "x", mpc_custody: "2-of-3" }), 400, "provider_not_configured", /\bazure\b/);
    assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${vault.id}`)).body));
    const m = mode("2of3_multi_hsm");
    assertMpcVault(await enableMpc(admin, vault.id, { custody_mode: m.name, providers: ["gcp", "aws", "backup"] }), m, ["gcp", "aws", "backup"]);
    const v = secretValue("backup-slot");
    await putSecret(admin, vault.id, "x", v, m);
    assertValue(await readSecret(admin, vault.id, "x"), v, 1);
    // The client modes' defaults (gcp, aws) exist here.
    const cc = await createVault(admin, "client custody", { custody_mode: "2of3_client_custody" });
    assertMpcVault(cc, mode("2of3_client_custody"));
    const w = await putSecret(admin, cc.id, "y", v, mode("2of3_client_custody"));
    assertValue(await readSecret(admin, cc.id, "y", w.client_share), v, 1);
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), [v, w.client_share!, deployment.server.adminKey]);
  });
});

describe("a vault whose key provider slot was removed from the configuration (pglite)", () => {
  let deployment: Deployment;
  after(async () => deployment?.dispose());

  test("reading it and enabling MPC on it answer 400 provider_not_configured naming the slot, like a request naming an unknown slot", async () => {
    // The token signing key is wrapped by gcp (the first start's default); the vault is made under `old`.
    const dir = writeLocalConfig(["gcp", "aws", "azure", "old"]).dir;
    const configWith = (slots: string[], extra: Record<string, unknown> = {}) => writeLocalConfig(slots, extra, dir).path;
    deployment = await deploy("pglite", { env: { SHARDVAULT_CONFIG: configWith(["gcp", "aws", "azure", "old"]) } });
    await deployment.server.stop();
    const withOld = await deployment.restart({ env: { SHARDVAULT_CONFIG: configWith(["gcp", "aws", "azure", "old"], { default_provider: "old" }) } });
    const v = secretValue("on-old");
    const vault = await createVault(api(withOld.url, withOld.adminKey), "on old");
    await putSecret(api(withOld.url, withOld.adminKey), vault.id, "x", v);
    await withOld.stop();

    const without = await deployment.restart({ env: { SHARDVAULT_CONFIG: configWith(["gcp", "aws", "azure"]) } });
    const admin = api(without.url, without.adminKey);
    assertProblem(await readSecret(admin, vault.id, "x"), 400, "provider_not_configured", /\bold\b/);
    assertProblem(await admin.post(`/v1/vaults/${vault.id}/mpc`, { custody_mode: "2of3_multi_hsm" }), 400, "provider_not_configured", /\bold\b/);
    assert.ok(!("mpc_custody" in (await admin.get(`/v1/vaults/${vault.id}`)).body), "nothing changed");
    await without.stop();
    assertNoLeak(without.output(), [v, without.adminKey]);
  });
});
