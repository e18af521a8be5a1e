/**
 * `shardvault policy …`, `shardvault member …` and `shardvault login --email` driven as a user would: the linked
 * bin as a child process against a real server.
 *
 * - policy add (for an agent and a member, with a pattern, effect, priority and conditions), list, update, rm;
 *   the agent's reads follow them; bad options are usage errors (exit 2), refusals exit 4, unknown ids 3;
 * - member invite (the token shown once, with a warning), list, role, rm;
 * - login --email: the password from standard input, never from argv; the stored session works, and stops
 *   working when the member is removed.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { cli, startServer, type ServerHandle } from "./support.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = "a long enough password";

describe("shardvault policy, member and login --email against a real server", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  const run = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) => cli(args, { ...opts, env: { ...env, ...opts.env } });
  const expectExit = async (args: string[], code: number, opts: { input?: string; env?: Record<string, string | undefined> } = {}) => {
    const res = await run(args, opts);
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };
  const fetchAs = async (token: string, path: string) => {
    const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
  });
  after(async () => {
    await server?.stop();
  });

  test("policy add, list, update, rm: the agent's reads follow them", async () => {
    const vault = (await expectExit(["vault", "create", "cli-access", "--json"], 0)).json;
    await expectExit(["secret", "put", vault.id, "app/db", "--value-file", "-"], 0, { input: "db-value" });
    await expectExit(["secret", "put", vault.id, "ops/key", "--value-file", "-"], 0, { input: "ops-value" });
    const agent = (await expectExit(["agent", "create", "cli-reader", "--json"], 0)).json;
    const token = (
      await (await fetch(`${server.url}/v1/auth/agent-token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ api_key: agent.api_key }) })).json()
    ).access_token as string;
    const read = (path: string) => fetchAs(token, `/v1/vaults/${vault.id}/secrets/${path}`);
    assert.equal((await read("app/db")).status, 404);

    const added = (await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read", "--pattern", "app/**", "--json"], 0)).json;
    assert.match(added.id, UUID);
    assert.deepEqual([added.principal_type, added.secret_path_pattern, added.permissions, added.effect, added.priority], ["agent", "app/**", ["read"], "allow", 0]);
    assert.equal((await read("app/db")).body.value, "db-value");
    assert.equal((await read("ops/key")).status, 403);

    const table = await expectExit(["policy", "list", vault.id], 0);
    assert.match(table.stdout.split("\n")[0]!, /^ID\s+PRINCIPAL\s+PATTERN\s+PERMISSIONS\s+EFFECT\s+PRIORITY\s+EXPIRES$/);
    assert.match(table.stdout, new RegExp(`${added.id}\\s+agent:${agent.agent.id}\\s+app/\\*\\*\\s+read\\s+allow\\s+0`));
    assert.deepEqual((await expectExit(["policy", "ls", vault.id, "--json"], 0)).json, { policies: [added] });

    // A deny above it, limited to loopback clients: refused; then conditions cleared and the deny lowered.
    const deny = (
      await expectExit(
        ["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read", "--pattern", "app/db", "--effect", "deny", "--priority", "2", "--ip-allowlist", "127.0.0.0/8,::1", "--json"],
        0,
      )
    ).json;
    assert.deepEqual(deny.conditions, { ip_allowlist: ["127.0.0.0/8", "::1"] });
    assert.equal((await read("app/db")).status, 403);
    const updated = (await expectExit(["policy", "update", vault.id, deny.id, "--priority", "0", "--no-conditions", "--json"], 0)).json;
    assert.deepEqual([updated.priority, updated.conditions], [0, {}]);
    assert.equal((await read("app/db")).status, 403, "deny wins at equal priority");
    await expectExit(["policy", "update", vault.id, added.id, "--priority", "1", "--expires-at", new Date(Date.now() + 3_600_000).toISOString()], 0);
    assert.equal((await read("app/db")).body.value, "db-value");
    await expectExit(["policy", "update", vault.id, added.id, "--expires-at", "never"], 0);

    // An agent key may not list the vault's policies: it sees the vault, but does not manage it.
    await expectExit(["policy", "list", vault.id], 4, { env: { SHARDVAULT_API_KEY: agent.api_key } });

    // Without its allow, only a deny is left: the vault is as good as missing for the agent.
    const removed = await expectExit(["policy", "rm", vault.id, added.id], 0);
    assert.match(removed.stdout, /Deleted policy/);
    assert.equal((await read("app/db")).status, 404);
    await expectExit(["policy", "rm", vault.id, added.id], 3);

    // Usage errors and refusals.
    await expectExit(["policy", "add", vault.id, "--permissions", "read"], 2);
    await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--user", agent.agent.id, "--permissions", "read"], 2);
    await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id], 2);
    await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read,admin"], 2);
    await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read", "--effect", "maybe"], 2);
    await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read", "--priority", "-1"], 2);
    await expectExit(["policy", "update", vault.id, deny.id], 2);
    const badPattern = await expectExit(["policy", "add", vault.id, "--agent", agent.agent.id, "--permissions", "read", "--pattern", "app-*"], 1);
    assert.match(badPattern.stderr, /invalid_pattern/);
    await expectExit(["policy", "list", "00000000-0000-4000-8000-000000000000"], 3);
  });

  test("member invite, list, role, rm; login --email with the password from standard input", async () => {
    const invited = await expectExit(["member", "invite", "cli@example.com", "--role", "admin", "--json"], 0);
    assert.match(invited.stderr, /shown ONCE/);
    const token = invited.json.invite_token as string;
    assert.match(token, /^svi_/);
    assert.equal(invited.json.role, "admin");
    const accepted = await fetch(`${server.url}/v1/auth/accept-invite`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ invite_token: token, password: PASSWORD }),
    });
    assert.equal(accepted.status, 200);

    const listed = await expectExit(["member", "list"], 0);
    assert.match(listed.stdout.split("\n")[0]!, /^ID\s+EMAIL\s+NAME\s+ROLE\s+SIGN-IN$/);
    const members = (await expectExit(["member", "ls", "--json"], 0)).json.members;
    const member = members.find((m: { email: string | null }) => m.email === "cli@example.com");
    assert.equal(member.role, "admin");
    assert.match((await expectExit(["member", "role", member.id, "member"], 0)).stdout, /cli@example.com is now member/);
    await expectExit(["member", "role", member.id, "king"], 2);
    await expectExit(["member", "invite", "cli@example.com", "--role", "root"], 2);

    // The member signs in: the password from standard input; never from argv.
    const memberEnv = { SHARDVAULT_API_KEY: undefined };
    const refused = await expectExit(["login", "--email", "cli@example.com", "--password", PASSWORD], 2, { env: memberEnv });
    assert.match(refused.stderr, /--password is not accepted/);
    await expectExit(["login", "--email", "cli@example.com"], 4, { env: memberEnv, input: "not the password\n" });
    const config = `${(await import("node:os")).tmpdir()}/shardvault-cli-access-${process.pid}.json`;
    const loginEnv = { ...memberEnv, SHARDVAULT_CLI_CONFIG: config };
    const login = await expectExit(["login", "--email", "CLI@example.com"], 0, { env: loginEnv, input: `${PASSWORD}\n` });
    assert.match(login.stdout, /Signed in to .* as CLI@example.com/);
    assert.equal(statSync(config).mode & 0o777, 0o600);
    const stored = JSON.parse(readFileSync(config, "utf8"));
    assert.ok(stored.token && !JSON.stringify(stored).includes(PASSWORD), "the password is stored");
    assert.equal((await expectExit(["vault", "list", "--json"], 0, { env: loginEnv })).json.vaults.length, 0, "a member sees no vault of others");
    await expectExit(["vault", "create", "cli-member-own"], 0, { env: loginEnv });
    // Removed: the stored session is refused at once.
    assert.match((await expectExit(["member", "rm", member.id], 0)).stdout, /Removed member/);
    await expectExit(["vault", "list"], 4, { env: loginEnv });
    await expectExit(["member", "rm", member.id], 3);
  });
});
