/**
 * Cross-organization isolation on PostgreSQL. The second organization is created through the service layer
 * (orgs/org-service.ts `createOrganization`, on a pg client wrapped as a `Queryable`, in a transaction), the way
 * bootstrap creates the first. With each organization's admin key (and its tokens, and its agents' tokens):
 *
 * - the other organization's vaults are 404 on every vault and secret route (read, write, list, versions,
 *   disable, rotate, delete, MPC, delete vault) and absent from listings; nothing there changes;
 * - its agents are 404 (get, PATCH, delete, rotate-key) and absent from listings; its vaults cannot be given to
 *   an agent (400 vault_not_found); its API keys cannot be revoked (404) and are not listed;
 * - its audit events are invisible, by every filter; the refused attempts add nothing to its log;
 * - an agent with `vault_ids: []` (no bound) and a policy on every vault of its organization sees none of the
 *   other's;
 * - and all of that both ways.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Queryable } from "../src/db/database.js";
import { createOrganization } from "../src/orgs/org-service.js";
import { api, assertNoLeak, assertProblem, secretValue, type Api } from "./support/harness.js";
import { deploy, postgresSkipReason, withClient, type Deployment } from "./support/postgres.js";
import { agentToken, allAuditEvents, auditQuery, createAgent, fetchJwks, grant, makeVault, patch, userToken, verifyWithJwks } from "./support/auth-support.js";

interface Org {
  name: string;
  admin: Api;
  key: string;
  orgId: string;
  userId: string;
  keyId: string;
  vaultId: string;
  secretPath: string;
  secretValue: string;
  agentId: string;
  /** A token of an agent with vault_ids [] (no bound) and a policy on its organization's vault. */
  agent: Api;
  /** A JWT of the admin. */
  jwt: Api;
}

describe("agents-cross-org on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let url: string;
  let first: Org;
  let second: Org;
  const sensitive: string[] = [];
  const keep = <T extends string>(s: T) => (sensitive.push(s), s);

  /** Gives an organization a vault with a secret, an agent with a policy on it, and a JWT. */
  async function populate(name: string, key: string, ids: { orgId: string; userId: string; keyId: string }): Promise<Org> {
    const admin = api(url, key);
    const vault = await makeVault(admin, `${name}-vault`);
    const value = keep(secretValue(name));
    const put = await admin.put(`/v1/vaults/${vault.id}/secrets/shared/name`, { value });
    assert.equal(put.status, 201, put.text);
    const agent = await createAgent(admin, { name: `${name}-agent` });
    keep(agent.api_key);
    await grant(admin, vault.id, { type: "agent", id: agent.agent.id });
    const agentJwt = keep((await agentToken(url, agent.api_key)).access_token);
    const jwt = keep((await userToken(url, key)).access_token);
    return { name, admin, key, ...ids, vaultId: vault.id, secretPath: "shared/name", secretValue: value, agentId: agent.agent.id, agent: api(url, agentJwt), jwt: api(url, jwt) };
  }

  before(async () => {
    deployment = await deploy("postgres");
    url = deployment.server.url;
    const adminKey = keep(deployment.server.adminKey);
    const bootstrap = await withClient(deployment.database!.url, async (client) => {
      const [row] = (await client.query("SELECT b.org_id, b.admin_user_id, b.admin_key_id FROM bootstrap b")).rows;
      return row;
    });
    // The second organization, through the service layer, in one transaction.
    const created = await withClient(deployment.database!.url, async (client) => {
      const tx: Queryable = { query: async (sql: string, params?: readonly unknown[]) => (await client.query(sql, params as unknown[])).rows } as Queryable;
      await client.query("BEGIN");
      try {
        const org = await createOrganization(tx, "other");
        await client.query("COMMIT");
        return org;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    });
    keep(created.adminApiKey);
    assert.notEqual(created.orgId, bootstrap.org_id);
    first = await populate("first", adminKey, { orgId: bootstrap.org_id, userId: bootstrap.admin_user_id, keyId: bootstrap.admin_key_id });
    second = await populate("second", created.adminApiKey, { orgId: created.orgId, userId: created.adminUserId, keyId: created.adminKeyId });
  });

  after(async () => {
    await deployment?.dispose();
  });

  test("the second organization works on its own: its key, its token's org claim, its vault and agent", async () => {
    const jwks = await fetchJwks(url);
    const token = keep((await userToken(url, second.key)).access_token);
    const { payload } = await verifyWithJwks(token, jwks);
    assert.equal(payload.org, second.orgId);
    assert.equal(payload.sub, `user:${second.userId}`);
    const read = await second.admin.get(`/v1/vaults/${second.vaultId}/secrets/${second.secretPath}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.body.value, second.secretValue);
    assert.equal((await second.agent.get(`/v1/vaults/${second.vaultId}/secrets/${second.secretPath}`)).body.value, second.secretValue);
  });

  for (const direction of ["first → second", "second → first"] as const) {
    describe(direction, () => {
      const pick = () => (direction === "first → second" ? { me: first, them: second } : { me: second, them: first });

      test("the other organization's vaults and secrets are 404 everywhere and unchanged", async () => {
        const { me, them } = pick();
        const v = `/v1/vaults/${them.vaultId}`;
        const s = `${v}/secrets/${them.secretPath}`;
        for (const [who, client] of [["admin key", me.admin], ["admin JWT", me.jwt], ["agent token", me.agent]] as const) {
          const listed = await client.get("/v1/vaults");
          assert.equal(listed.status, 200);
          assert.ok(!listed.body.vaults.some((x: { id: string }) => x.id === them.vaultId), `${who}: the other's vault is listed`);
          const attempts: Array<[string, () => Promise<any>, string]> = [
            ["get vault", () => client.get(v), "vault_not_found"],
            ["read secret", () => client.get(s), "vault_not_found"],
            ["read version", () => client.get(`${s}?version=1`), "vault_not_found"],
            ["secret-version", () => client.get(`${v}/secret-version/${them.secretPath}/1`), "vault_not_found"],
            ["list secrets", () => client.get(`${v}/secrets`), "vault_not_found"],
            ["versions", () => client.get(`${v}/secret-versions/${them.secretPath}`), "vault_not_found"],
            ["write", () => client.put(s, { value: keep(secretValue("intruder")) }), "vault_not_found"],
            ["disable", () => client.post(`${v}/secret-version-disable/${them.secretPath}/1`), "vault_not_found"],
            ["rotate", () => client.post(`${v}/secret-rotate/${them.secretPath}`, {}), "vault_not_found"],
            ["delete secret", () => client.delete(s), "vault_not_found"],
          ];
          if (client !== me.agent) {
            attempts.push(["enable MPC", () => client.post(`${v}/mpc`, { custody_mode: "2of3_multi_hsm" }), "vault_not_found"]);
            attempts.push(["delete vault", () => client.delete(v), "vault_not_found"]);
          }
          for (const [label, call, code] of attempts) assertProblem(await call(), 404, code, undefined, `${who}: ${label}`);
        }
        // Nothing changed on the other side.
        const read = await them.admin.get(s);
        assert.equal(read.status, 200, read.text);
        assert.equal(read.body.value, them.secretValue);
        assert.equal(read.body.version, 1);
        const vault = await them.admin.get(v);
        assert.equal(vault.body.mpc_custody, undefined);
        assert.deepEqual((await them.admin.get(`${v}/secret-versions/${them.secretPath}`)).body.versions.map((x: { version: number }) => x.version), [1]);
      });

      test("the other organization's agents and API keys are 404 and unlisted; its vaults cannot be granted", async () => {
        const { me, them } = pick();
        const agents = await me.admin.get("/v1/agents");
        assert.ok(!agents.body.agents.some((x: { id: string }) => x.id === them.agentId), "the other's agent is listed");
        const a = `/v1/agents/${them.agentId}`;
        assertProblem(await me.admin.get(a), 404, "agent_not_found");
        assertProblem(await patch(me.admin, a, { is_active: false, vault_ids: [] }), 404, "agent_not_found");
        assertProblem(await me.admin.post(`${a}/rotate-key`), 404, "agent_not_found");
        assertProblem(await me.admin.delete(a), 404, "agent_not_found");
        // The other's agent is untouched: its token still works.
        assert.equal((await them.agent.get("/v1/agents/me")).status, 200);

        // Its vault cannot be given to one of mine, by creation or by PATCH.
        assertProblem(await me.admin.post("/v1/agents", { name: "grab", vault_ids: [them.vaultId] }), 400, "vault_not_found");
        assertProblem(await patch(me.admin, `/v1/agents/${me.agentId}`, { vault_ids: [them.vaultId] }), 400, "vault_not_found");

        const keys = await me.admin.get("/v1/auth/api-keys");
        assert.ok(!keys.body.keys.some((k: { id: string }) => k.id === them.keyId), "the other's API key is listed");
        assertProblem(await me.admin.delete(`/v1/auth/api-keys/${them.keyId}`), 404, "api_key_not_found");
        assert.equal((await them.admin.get("/v1/vaults")).status, 200, "the other's key still works");
      });

      test("the other organization's audit events are invisible, by every filter, and my attempts stay in my log", async () => {
        const { me, them } = pick();
        const theirs = await allAuditEvents(them.admin);
        assert.ok(theirs.length > 0);
        assert.ok(theirs.every((e) => e.org_id === them.orgId));
        const mine = await allAuditEvents(me.admin);
        assert.ok(mine.every((e) => e.org_id === me.orgId), "an event of another organization is visible");
        const theirIds = new Set(theirs.map((e) => e.id));
        assert.ok(!mine.some((e) => theirIds.has(e.id)));
        for (const query of [{ actor_id: them.userId }, { actor_id: them.agentId }, { resource_id: them.agentId }, { resource_id: them.keyId }]) {
          const res = await auditQuery(me.admin, query);
          assert.equal(res.count, 0, `${JSON.stringify(query)}: ${res.res.text.slice(0, 300)}`);
          assert.deepEqual(res.events, []);
        }
        // Naming their vault finds only my own refused reads of it, recorded in my log, none of theirs. (Other
        // calls on it are not refusals to audit: for me, no such vault exists.)
        const onTheirVault = await auditQuery(me.admin, { resource_id: them.vaultId });
        assert.ok(
          onTheirVault.events.every((e: { action: string; org_id: string; actor_id: string }) =>
            e.action === "secret.read_refused" && e.org_id === me.orgId && (e.actor_id === me.userId || e.actor_id === me.agentId),
          ),
          onTheirVault.res.text.slice(0, 300),
        );
        // Every refused attempt of the tests above left the other's log as it was: none of its events name me.
        assert.ok(!theirs.some((e) => e.actor_id === me.userId || e.actor_id === me.agentId), "my attempts are in the other's log");
      });
    });
  }

  test("the server's output holds no value, key or token", async () => {
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), sensitive);
  });
});
