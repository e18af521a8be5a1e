/**
 * The MPC guide's SDK snippets (seed-snippets/), run with tsx as child processes against a real server:
 * the user flow (create, enable MPC, client-custody put and get with the X-Client-Share header), a
 * multi-HSM read with no share, and the agent snippet with its credentials and share from the environment
 * and the server from SHARDVAULT_URL.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@shardvault/sdk";
import { runTs, SNIPPETS_DIR, startServer, steps, type ServerHandle } from "./support.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("the seed's SDK snippets", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite" });
  });
  after(async () => {
    await server?.stop();
  });

  test("2-of-2 client custody: create, enable MPC, put (client_share shown), get with X-Client-Share", async () => {
    const run = await runTs(join(SNIPPETS_DIR, "client-custody.ts"), { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const out = steps(run.stdout);
    assert.match(out.vault.id, UUID);
    assert.equal(out.vault.name, "mpc-vault");
    assert.equal(out.vault.description, "Vault with 2-of-2 client custody");
    assert.equal(out.vault.mpc_custody, "2of2_client_custody");
    assert.equal(out.vault.mpc_threshold, 2);
    assert.deepEqual(out.vault.mpc_providers, ["gcp", "client"]);
    assert.equal(out.created.path, "api-keys/stripe");
    assert.equal(out.created.version, 1);
    assert.equal(out.created.type, "api_key");
    assert.match(out.created.client_share, /^[A-Za-z0-9+/]+={0,2}$/);
    assert.ok(run.stdout.includes(`Client share (store this): ${out.created.client_share}\n`), run.stdout);
    assert.equal(out.secret.value, "sk_live_abc123...");
    assert.ok(run.stdout.includes("\nsk_live_abc123...\n"), "console.log(secret?.value) prints the value");
    assert.equal(out["without-share"].data, null);
    assert.equal(out["without-share"].error.type, "validation_error");
    assert.equal(out["without-share"].error.code, "client_share_required");
    assert.equal(out["without-share"].meta.status, 400);
  });

  test("2-of-3 multi-HSM: get with no client share", async () => {
    const run = await runTs(join(SNIPPETS_DIR, "multi-hsm.ts"), { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey });
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const out = steps(run.stdout);
    assert.equal(out.vault.mpc_custody, "2of3_multi_hsm");
    assert.deepEqual(out.vault.mpc_providers, ["gcp", "aws", "azure"]);
    assert.equal(out.created.client_share, undefined, "multi-HSM writes return no client share");
    assert.equal(out.secret.value, "sk_live_abc123...");
  });

  test("the agent snippet: ONECLAW_AGENT_ID, ONECLAW_AGENT_API_KEY, ONECLAW_CLIENT_SHARE from the environment, no baseUrl", async () => {
    // The user's side: a client-custody vault, a secret in it, and an agent a policy lets read it.
    const user = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const vault = (await user.vault.create({ name: "agent-vault", custody_mode: "2of2_client_custody" })).data!;
    const written = (await user.secrets.put(vault.id, "api-keys/stripe", { type: "api_key", value: "sk_live_agent_42" })).data!;
    const created = (await user.agents.create({ name: "mpc-agent", vault_ids: [vault.id] })).data!;
    assert.equal((await user.access.grantAgent(vault.id, created.agent.id, ["read"])).meta.status, 201);
    assert.match(created.api_key, /^ocv_/);

    const env = {
      SHARDVAULT_URL: server.url,
      ONECLAW_VAULT_ID: vault.id,
      ONECLAW_AGENT_ID: created.agent.id,
      ONECLAW_AGENT_API_KEY: created.api_key,
      ONECLAW_CLIENT_SHARE: written.client_share!,
    };
    const run = await runTs(join(SNIPPETS_DIR, "agent.ts"), env);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const out = steps(run.stdout);
    assert.equal(out.secret.value, "sk_live_agent_42");
    assert.equal(out.secret.path, "api-keys/stripe");
    assert.ok(run.stdout.endsWith("sk_live_agent_42\n"));

    // A wrong share (another secret's) is refused, and the snippet prints nothing for the value.
    const other = (await user.secrets.put(vault.id, "api-keys/other", { value: "x" })).data!;
    const refused = await runTs(join(SNIPPETS_DIR, "agent.ts"), { ...env, ONECLAW_CLIENT_SHARE: other.client_share! });
    assert.equal(refused.code, 0, refused.stderr);
    assert.equal(steps(refused.stdout).secret, null);
    assert.ok(refused.stdout.endsWith("undefined\n"));
  });
});
