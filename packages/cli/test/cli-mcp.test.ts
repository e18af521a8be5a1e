/**
 * `shardvault mcp` spoken to as an MCP client does: the process spawned, JSON-RPC lines over its standard
 * input and output (initialize, tools/list, tools/call), against a real server, configured by 1claw-mcp's
 * environment variables.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@shardvault/sdk";
import { BIN, cleanEnv, cli, makeTempDir, REPO_ROOT, startServer, type ServerHandle } from "./support.js";

const TOOLS = ["list_vaults", "list_secrets", "get_secret", "put_secret", "describe_secret", "delete_secret", "rotate_and_store", "get_env_bundle", "share_secret"];

/** One MCP client session with a `shardvault mcp` process. */
class McpSession {
  private buffer = "";
  private nextId = 1;
  private readonly waiting = new Map<number, (message: any) => void>();
  stderr = "";
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on("data", (chunk: Buffer) => {
      this.buffer += chunk.toString("utf8");
      let newline: number;
      while ((newline = this.buffer.indexOf("\n")) !== -1) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        const message = JSON.parse(line);
        this.waiting.get(message.id)?.(message);
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  }

  static async start(env: Record<string, string | undefined>, args: string[] = []): Promise<McpSession> {
    const session = new McpSession(spawn(BIN, ["mcp", ...args], { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] }));
    const init = await session.request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "shardvault-test", version: "0" } });
    assert.equal(init.result.serverInfo.name, "shardvault");
    session.notify("notifications/initialized");
    return session;
  }

  request(method: string, params: unknown = {}): Promise<any> {
    const id = this.nextId++;
    const answer = new Promise<any>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin!.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    return answer;
  }

  notify(method: string): void {
    this.child.stdin!.write(JSON.stringify({ jsonrpc: "2.0", method }) + "\n");
  }

  /** A tools/call: the text of its answer, and whether it is an error. */
  async call(name: string, args: Record<string, unknown> = {}): Promise<{ text: string; isError: boolean }> {
    const answer = await this.request("tools/call", { name, arguments: args });
    assert.equal(answer.error, undefined, JSON.stringify(answer.error));
    return { text: answer.result.content.map((c: { text: string }) => c.text).join(""), isError: answer.result.isError === true };
  }

  async ok(name: string, args: Record<string, unknown> = {}): Promise<string> {
    const { text, isError } = await this.call(name, args);
    assert.equal(isError, false, `${name}: ${text}`);
    return text;
  }

  /** Ends the session as a client does, by closing standard input; the server exits 0. */
  async close(): Promise<void> {
    this.child.stdin!.end();
    assert.equal(await this.exited, 0, this.stderr);
  }
}

describe("shardvault mcp", () => {
  let server: ServerHandle;
  let plain: string;
  let custody: string;
  let agentEnv: Record<string, string>;
  const dir = makeTempDir("shardvault-mcp-");

  before(async () => {
    server = await startServer({ database: "pglite" });
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    plain = (await admin.vault.create({ name: "mcp-plain" })).data!.id;
    custody = (await admin.vault.create({ name: "mcp-custody", custody_mode: "2of2_client_custody" })).data!.id;
    const agent = (await admin.agents.create({ name: "mcp-agent", vault_ids: [plain, custody] })).data!;
    // Agents reach vaults through policies: every permission on both.
    for (const vault of [plain, custody]) await admin.access.grantAgent(vault, agent.agent.id, ["read", "write", "delete", "rotate"]);
    agentEnv = { ONECLAW_BASE_URL: server.url, ONECLAW_AGENT_ID: agent.agent.id, ONECLAW_AGENT_API_KEY: agent.api_key };
    await admin.secrets.set(plain, "passwords/db", "hunter2", { type: "password", metadata: { owner: "ops" } });
  });
  after(async () => {
    await server?.stop();
  });

  test("tools/list: 1claw-mcp's tool names and input shapes", async () => {
    const session = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: plain });
    const { tools } = (await session.request("tools/list")).result;
    assert.deepEqual(tools.map((t: any) => t.name).sort(), [...TOOLS].sort());
    const schema = (name: string) => tools.find((t: any) => t.name === name).inputSchema;
    for (const name of ["get_secret", "describe_secret", "delete_secret", "get_env_bundle"]) {
      assert.deepEqual(schema(name).required, ["path"], name);
      assert.equal(schema(name).properties.path.type, "string");
      assert.equal(schema(name).properties.path.minLength, 1);
    }
    assert.deepEqual(Object.keys(schema("list_vaults").properties ?? {}), []);
    assert.deepEqual(Object.keys(schema("list_secrets").properties), ["prefix"]);
    assert.equal(schema("list_secrets").required, undefined);
    const put = schema("put_secret");
    assert.deepEqual(Object.keys(put.properties), ["path", "value", "type", "metadata", "expires_at", "max_access_count"]);
    assert.deepEqual(put.required, ["path", "value"]);
    assert.equal(put.properties.type.default, "api_key");
    assert.equal(put.properties.max_access_count.type, "integer");
    assert.deepEqual(Object.keys(schema("rotate_and_store").properties), ["path", "value"]);
    const share = schema("share_secret");
    assert.deepEqual(Object.keys(share.properties), ["secret_id", "recipient_type", "recipient_id", "expires_at", "max_access_count"]);
    assert.deepEqual(share.required, ["secret_id", "recipient_type", "expires_at"]);
    assert.deepEqual(share.properties.recipient_type.enum, ["user", "agent", "anyone_with_link", "creator"]);
    assert.equal(share.properties.max_access_count.default, 5);
    assert.equal(share.properties.secret_id.format, "uuid");
    for (const tool of tools) assert.ok(tool.description.length > 20, tool.name);
    await session.close();
  });

  test("list, get, put, describe, rotate and delete in a vault, as the agent", async () => {
    const session = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: plain });
    const vaults = await session.ok("list_vaults");
    assert.match(vaults, /^Found 2 vault\(s\):/);
    assert.match(vaults, new RegExp(`- mcp-custody  \\(id: ${custody}, custody: 2of2_client_custody`));

    assert.equal(await session.ok("put_secret", { path: "api-keys/stripe", value: "sk_live_1" }), "Secret stored at 'api-keys/stripe' (version 1, type: api_key).");
    assert.deepEqual(JSON.parse(await session.ok("get_secret", { path: "api-keys/stripe" })), { path: "api-keys/stripe", type: "api_key", version: 1, value: "sk_live_1" });
    assert.equal(await session.ok("list_secrets", { prefix: "api-keys/" }), "Found 1 secret(s):\n- api-keys/stripe  (type: api_key, version: 1, expires: never)");
    assert.match(await session.ok("list_secrets"), /^Found 2 secret\(s\):\n- api-keys\/stripe .*\n- passwords\/db  \(type: password, version: 1, expires: never\)$/);
    assert.equal(await session.ok("list_secrets", { prefix: "none/" }), "No secrets found under 'none/'.");

    const described = JSON.parse(await session.ok("describe_secret", { path: "passwords/db" }));
    assert.match(described.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...described, created_at: undefined }, { id: described.id, path: "passwords/db", type: "password", version: 1, metadata: { owner: "ops" }, created_at: undefined, expires_at: null });
    assert.ok(!JSON.stringify(described).includes("hunter2"));

    // rotate_and_store keeps the type of the secret it rotates.
    assert.equal(await session.ok("rotate_and_store", { path: "passwords/db", value: "hunter3" }), "Rotated secret at 'passwords/db'. New version: 2.");
    assert.deepEqual(JSON.parse(await session.ok("get_secret", { path: "passwords/db" })), { path: "passwords/db", type: "password", version: 2, value: "hunter3" });

    const stored = await session.ok("put_secret", { path: "notes/x", value: "n", type: "note", metadata: { a: 1 }, expires_at: "2099-01-01T00:00:00Z", max_access_count: 5 });
    assert.equal(stored, "Secret stored at 'notes/x' (version 1, type: note).");
    assert.match(await session.ok("delete_secret", { path: "notes/x" }), /^Secret at 'notes\/x' has been deleted/);
    assert.equal((await session.call("get_secret", { path: "notes/x" })).isError, true);

    const missing = await session.call("get_secret", { path: "no/such" });
    assert.deepEqual(missing, { text: "No secret found at path 'no/such'.", isError: true });
    assert.equal((await session.call("describe_secret", { path: "no/such" })).text, "No secret found at path 'no/such'.");
    // Bad input is an error answer, never a crash: a path the SDK refuses, an unknown type, a missing argument.
    assert.equal((await session.call("get_secret", { path: "../up" })).isError, true);
    assert.equal((await session.call("put_secret", { path: "a", value: "v", type: "Not A Type" })).isError, true);
    const noPath = await session.request("tools/call", { name: "get_secret", arguments: {} });
    assert.ok(noPath.error || noPath.result.isError, JSON.stringify(noPath));
    // Still serving after all that.
    assert.match(await session.ok("list_vaults"), /^Found 2 vault/);
    await session.close();
    assert.ok(!session.stderr.includes("hunter") && !session.stderr.includes("sk_live"), "no value in the server's log");
  });

  test("get_env_bundle parses KEY=VALUE lines of an env secret and refuses other types", async () => {
    const session = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: plain });
    await session.ok("put_secret", { path: "env/app", value: "# settings\nPORT=8080\n\nDATABASE_URL=postgres://u:p@h/db?x=1\n  SPACED = yes \nnot a pair\n", type: "env" });
    assert.deepEqual(JSON.parse(await session.ok("get_env_bundle", { path: "env/app" })), { PORT: "8080", DATABASE_URL: "postgres://u:p@h/db?x=1", "SPACED ": " yes" });
    const wrongType = await session.call("get_env_bundle", { path: "passwords/db" });
    assert.deepEqual(wrongType, { text: "Secret at 'passwords/db' is of type 'password', not 'env_bundle'.", isError: true });
    // 1claw's own type name, and a type no list knows: both stored as given (types are open).
    await session.ok("put_secret", { path: "env/bundle", value: "A=1\nB=two", type: "env_bundle" });
    assert.deepEqual(JSON.parse(await session.ok("get_env_bundle", { path: "env/bundle" })), { A: "1", B: "two" });
    await session.ok("put_secret", { path: "conn/db", value: "postgres://u@h/db", type: "database_url" });
    assert.match(await session.ok("describe_secret", { path: "conn/db" }), /database_url/);
    await session.close();
  });

  test("client custody: writes record their shares in the share file, reads use it; without one, writes are refused before anything is written", async () => {
    const shares = join(dir, "agent-shares.json");
    const withFile = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: custody }, ["--client-share-file", shares]);
    const stored = await withFile.ok("put_secret", { path: "keys/signing", value: "-----BEGIN KEY-----", type: "private_key" });
    assert.equal(stored, `Secret stored at 'keys/signing' (version 1, type: private_key). Its client share was recorded in ${shares}.`);
    assert.equal(statSync(shares).mode & 0o777, 0o600);
    const [entry] = JSON.parse(readFileSync(shares, "utf8"));
    assert.deepEqual([entry.path, entry.version], ["keys/signing", 1]);
    assert.ok(!stored.includes(entry.client_share), "the share is never shown to the model");
    assert.equal(JSON.parse(await withFile.ok("get_secret", { path: "keys/signing" })).value, "-----BEGIN KEY-----");
    assert.match(await withFile.ok("rotate_and_store", { path: "keys/signing", value: "v2" }), /New version: 2\. Its client share was recorded/);
    assert.equal(JSON.parse(await withFile.ok("get_secret", { path: "keys/signing" })).value, "v2");
    await withFile.close();
    // The CLI reads the same file.
    assert.equal((await cli(["secret", "get", custody, "keys/signing", "--client-share-file", shares], { env: { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey } })).stdout, "v2");

    const without = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: custody });
    const read = await without.call("get_secret", { path: "keys/signing" });
    assert.equal(read.isError, true);
    assert.match(read.text, /needs its client share; start `shardvault mcp` with --client-share-file FILE/);
    const refused = await without.call("put_secret", { path: "keys/lost", value: "x" });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /client custody: a write returns a client share that must be kept, and no share file was given/);
    assert.doesNotMatch(await without.ok("list_secrets"), /keys\/lost/);
    await without.close();
  });

  test("share_secret: with its creator (by describe_secret's id), with anyone holding the link; client custody with the share file", async () => {
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const session = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: plain });
    await session.ok("put_secret", { path: "share/me", value: "for my human" });
    const { id } = JSON.parse(await session.ok("describe_secret", { path: "share/me" }));
    const expires_at = new Date(Date.now() + 3_600_000).toISOString();
    const back = await session.ok("share_secret", { secret_id: id, recipient_type: "creator", expires_at });
    assert.match(back, /^Secret shared successfully\.\n  Share ID: [0-9a-f-]{36}\n  Recipient: your creator \(the human who registered this agent\)\n  Expires: \S+\n  Max accesses: 5\n  URL: \S+/);
    const shareId = /Share ID: (\S+)/.exec(back)![1]!;
    // The agent was registered by the admin: the admin opens it with its own credentials.
    assert.equal((await admin.sharing.access(shareId)).data?.value, "for my human");
    assert.equal((await createClient({ baseUrl: server.url }).sharing.access(shareId)).meta.status, 401, "not a link share");
    const link = await session.ok("share_secret", { secret_id: id, recipient_type: "anyone_with_link", expires_at, max_access_count: 1 });
    const url = /URL: (\S+)/.exec(link)![1]!;
    assert.equal((await createClient({ baseUrl: server.url }).sharing.access(url)).data?.value, "for my human");
    const noRecipient = await session.call("share_secret", { secret_id: id, recipient_type: "user", expires_at });
    assert.deepEqual(noRecipient, { text: "recipient_id is required when sharing with a user.", isError: true });
    assert.equal((await session.call("share_secret", { secret_id: id, recipient_type: "anyone_with_link", expires_at: "yesterday" })).isError, true);
    await session.close();

    const shares = join(dir, "share-secret-shares.json");
    const withFile = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: custody }, ["--client-share-file", shares]);
    await withFile.ok("put_secret", { path: "keys/shared", value: "sealed for a link" });
    const custodyId = JSON.parse(await withFile.ok("describe_secret", { path: "keys/shared" })).id;
    const sealed = await withFile.ok("share_secret", { secret_id: custodyId, recipient_type: "anyone_with_link", expires_at });
    const sealedUrl = /URL: (\S+)/.exec(sealed)![1]!;
    assert.match(sealedUrl, /#k=/);
    assert.equal((await createClient({ baseUrl: server.url }).sharing.access(sealedUrl)).data?.value, "sealed for a link");
    await withFile.close();
    const without = await McpSession.start({ ...agentEnv, ONECLAW_VAULT_ID: custody });
    const refused = await without.call("share_secret", { secret_id: custodyId, recipient_type: "anyone_with_link", expires_at });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /sharing it needs its client share; start `shardvault mcp` with --client-share-file FILE/);
    await without.close();
  });

  test("ONECLAW_AGENT_TOKEN works instead of the key; missing settings are refused at start with what to set", async () => {
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const { data: token } = await admin.auth.agentToken(agentEnv.ONECLAW_AGENT_API_KEY!);
    const session = await McpSession.start({ ONECLAW_BASE_URL: server.url, ONECLAW_AGENT_TOKEN: token!.access_token, ONECLAW_VAULT_ID: plain });
    assert.match(await session.ok("list_secrets"), /passwords\/db/);
    await session.close();

    const noVault = await cli(["mcp"], { env: agentEnv });
    assert.equal(noVault.code, 2);
    assert.match(noVault.stderr, /set ONECLAW_VAULT_ID/);
    const noKey = await cli(["mcp"], { env: { ONECLAW_BASE_URL: server.url, ONECLAW_VAULT_ID: plain } });
    assert.equal(noKey.code, 4);
    assert.match(noKey.stderr, /ONECLAW_AGENT_ID and ONECLAW_AGENT_API_KEY/);
    const http = await cli(["mcp"], { env: { ...agentEnv, ONECLAW_VAULT_ID: plain, MCP_TRANSPORT: "httpStream" } });
    assert.equal(http.code, 2);
  });
});
