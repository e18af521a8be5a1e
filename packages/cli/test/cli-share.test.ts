/**
 * `shardvault share create|open|ls|rm|accept|decline` against a real server: a link share with a passphrase
 * (from a file, never from argv) opened by its link without logging in, once; listed and revoked; a
 * client-custody share whose link carries its key, made with a share file; a share for an agent, opened with
 * the agent's key, in its inbound list, accepted and declined. Credentials never go to a server a link names.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "@shardvault/sdk";
import { cli, makeTempDir, startServer, type ServerHandle } from "./support.js";

describe("shardvault share", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  let dir: string;
  let vault: string;
  const expectExit = async (args: string[], code: number, opts: { input?: string; env?: Record<string, string | undefined> } = {}) => {
    const res = await cli(args, { ...opts, env: { ...env, ...opts.env } });
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };
  /** Not logged in at all: no key in the environment, an empty config file. */
  const anonymous = { SHARDVAULT_API_KEY: undefined, SHARDVAULT_URL: undefined };

  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
    dir = makeTempDir("shardvault-cli-share-");
    vault = (await createClient({ apiKey: server.adminKey, baseUrl: server.url }).vault.create({ name: "cli-share" })).data!.id;
  });
  after(async () => {
    await server?.stop();
  });

  test("a link with a passphrase: create, open by link without logging in (once), ls, rm", async () => {
    await expectExit(["secret", "put", vault, "db/password"], 0, { input: "s3cret-v1\n" });
    const passphraseFile = join(dir, "passphrase");
    writeFileSync(passphraseFile, "correct horse\n");
    const before = Date.now();
    const created = await expectExit(["share", "create", vault, "db/password", "--max-access-count", "1", "--passphrase-file", passphraseFile, "--expires-in", "2h"], 0);
    const after = Date.now();
    const url = /^URL\s+(\S+)$/m.exec(created.stdout)?.[1];
    assert.match(url ?? "", new RegExp(`^${server.url}/share/[0-9a-f-]{36}$`), created.stdout);
    assert.match(created.stdout, /^RECIPIENT\s+anyone_with_link$/m);
    assert.match(created.stdout, /^MAX_OPENS\s+1$/m);
    const expires = Date.parse(/^EXPIRES\s+(\S+)$/m.exec(created.stdout)![1]!);
    // Two hours from when the command ran (the answer's times are whole milliseconds).
    assert.ok(expires >= before + 7_200_000 - 1 && expires <= after + 7_200_000, "--expires-in 2h");
    const id = url!.split("/").pop()!;

    const without = await expectExit(["share", "open", url!], 4, { env: anonymous });
    assert.match(without.stderr, /has a passphrase: give it with --passphrase-file/);
    await expectExit(["share", "open", url!, "--passphrase"], 2, { env: anonymous });
    const opened = await expectExit(["share", "open", url!, "--passphrase-file", "-"], 0, { env: anonymous, input: "correct horse\n" });
    assert.equal(opened.stdout, "s3cret-v1");
    await expectExit(["share", "open", url!, "--passphrase-file", passphraseFile], 3, { env: anonymous });

    const listed = await expectExit(["share", "ls"], 0);
    assert.match(listed.stdout.split("\n")[0]!, /^ID\s+PATH\s+RECIPIENT\s+OPENS\s+EXPIRES\s+STATE$/);
    assert.match(listed.stdout, new RegExp(`^${id}\\s+db/password\\s+anyone_with_link\\s+1/1\\s+\\S+\\s+gone$`, "m"));
    const again = (await expectExit(["share", "create", vault, "db/password", "--json"], 0)).json;
    assert.equal(again.recipient_type, "anyone_with_link");
    assert.equal((await expectExit(["share", "open", again.id, "--json"], 0)).json.value, "s3cret-v1", "by id, on the configured server");
    assert.deepEqual((await expectExit(["share", "rm", again.id, "--json"], 0)).json, { id: again.id, revoked: true });
    await expectExit(["share", "open", again.share_url], 3, { env: anonymous });
    await expectExit(["share", "rm", again.id], 3);
  });

  test("client custody: the share file gives the client share; the link carries the key, announced once", async () => {
    const custody = (await createClient({ apiKey: server.adminKey, baseUrl: server.url }).vault.create({ name: "cli-share-cc", custody_mode: "2of2_client_custody" })).data!.id;
    const shares = join(dir, "shares.json");
    await expectExit(["secret", "put", custody, "keys/deploy", "--client-share-out", shares], 0, { input: "deploy-key" });
    const refused = await expectExit(["share", "create", custody, "keys/deploy"], 1);
    assert.match(refused.stderr, /needs its client share/);
    const created = await expectExit(["share", "create", custody, "keys/deploy", "--client-share-file", shares], 0);
    assert.match(created.stderr, /carries the key that opens this share .* shown ONCE/);
    const url = /^URL\s+(\S+)$/m.exec(created.stdout)![1]!;
    assert.match(url, /#k=[A-Za-z0-9_-]{43}$/);
    assert.equal((await expectExit(["share", "open", url], 0, { env: anonymous })).stdout, "deploy-key");
    const id = url.split("#")[0]!.split("/").pop()!;
    const noKey = await expectExit(["share", "open", id], 1);
    assert.match(noKey.stderr, /share_key_required/);
  });

  test("a share for an agent: opened with its key, listed inbound, accepted, declined; usage errors", async () => {
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const agent = (await admin.agents.create({ name: "cli-share-recipient" })).data!;
    const agentEnv = { SHARDVAULT_API_KEY: agent.api_key };
    await expectExit(["secret", "put", vault, "team/token"], 0, { input: "t0ken" });
    const share = (await expectExit(["share", "create", vault, "team/token", "--agent", agent.agent.id, "--json"], 0)).json;
    assert.equal(share.recipient_type, "agent");
    assert.equal((await expectExit(["share", "open", share.id], 0, { env: agentEnv })).stdout, "t0ken");
    const noToken = await expectExit(["share", "open", share.id, "--url", server.url], 4, { env: anonymous });
    assert.match(noToken.stderr, /open it with the recipient's token/);
    const inbound = (await expectExit(["share", "ls", "--inbound", "--json"], 0, { env: agentEnv })).json;
    assert.deepEqual(inbound.shares.map((s: { id: string }) => s.id), [share.id]);
    await expectExit(["share", "accept", share.id], 0, { env: agentEnv });
    assert.equal((await expectExit(["share", "ls", "--inbound", "--json"], 0, { env: agentEnv })).json.shares[0].is_accepted, true);
    await expectExit(["share", "decline", share.id], 0, { env: agentEnv });
    await expectExit(["share", "open", share.id], 3, { env: agentEnv });

    await expectExit(["share", "create", vault, "team/token", "--agent", agent.agent.id, "--user", agent.agent.id], 2);
    await expectExit(["share", "create", vault, "team/token", "--expires-in", "soon"], 2);
    await expectExit(["share", "create", vault, "team/token", "--passphrase", "on-argv"], 2);
    await expectExit(["share", "create", vault, "no/such"], 3);
    await expectExit(["share", "create", vault, "team/token", "--version", "9"], 3);
  });

  test("share open sends no credentials to a server a link names", async () => {
    const seen: Array<{ method: string; url: string; authorization?: string; body: string }> = [];
    const elsewhere = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        seen.push({ method: req.method!, url: req.url!, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), body });
        res.writeHead(404, { "content-type": "application/problem+json" });
        res.end(JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, detail: "no", code: "share_not_found" }));
      });
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      await expectExit(["share", "open", `http://127.0.0.1:${port}/share/0b9c5a8e-2f43-4f4e-9a51-3c1f0f1e2d3c`], 3);
      assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), ["GET /v1/share/0b9c5a8e-2f43-4f4e-9a51-3c1f0f1e2d3c"]);
      assert.equal(seen[0]!.authorization, undefined);
      assert.ok(!JSON.stringify(seen).includes(server.adminKey));
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});
