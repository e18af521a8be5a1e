/**
 * `shardvault vault|secret|agent …` driven as a user would: the linked bin as a child process against a real
 * server. Every command in table and --json form, values and client shares never on argv, and the exit
 * codes: 0 success, 1 other error, 2 usage, 3 not found, 4 authentication or permission, 5 unavailable.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cli, makeTempDir, startServer, type ServerHandle } from "./support.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("shardvault commands against a real server", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  let dir: string;
  const run = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) =>
    cli(args, { ...opts, env: { ...env, ...opts.env } });
  const expectExit = async (args: string[], code: number, opts: { input?: string; env?: Record<string, string | undefined> } = {}) => {
    const res = await run(args, opts);
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };

  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
    dir = makeTempDir("shardvault-cli-files-");
  });
  after(async () => {
    await server?.stop();
  });

  test("vault create, list, get, delete: tables and --json", async () => {
    const table = await expectExit(["vault", "create", "team-a", "--description", "for team A"], 0);
    assert.match(table.stdout, /^ID\s+[0-9a-f-]{36}$/m);
    assert.match(table.stdout, /^NAME\s+team-a$/m);
    assert.match(table.stdout, /^MPC\s+off$/m);

    const created = (await expectExit(["vault", "create", "team-b", "--json"], 0)).json;
    assert.match(created.id, UUID);
    assert.equal(created.name, "team-b");
    assert.equal(created.mpc_custody, undefined);

    const listed = await expectExit(["vault", "list"], 0);
    assert.match(listed.stdout.split("\n")[0]!, /^ID\s+NAME\s+MPC\s+CREATED$/);
    assert.ok(listed.stdout.includes(created.id));
    const listedJson = (await expectExit(["--json", "vault", "list"], 0)).json;
    assert.ok(listedJson.vaults.some((v: any) => v.id === created.id && v.name === "team-b"));

    const got = (await expectExit(["vault", "get", created.id, "--json"], 0)).json;
    assert.deepEqual(got, created);
    assert.match((await expectExit(["vault", "get", created.id], 0)).stdout, /^NAME\s+team-b$/m);

    // Without a terminal to ask on, deleting needs --yes.
    const unasked = await expectExit(["vault", "delete", created.id], 2);
    assert.match(unasked.stderr, /asks for confirmation, and standard input is not a terminal: pass --yes/);
    await expectExit(["vault", "get", created.id], 0);
    const deleted = await expectExit(["vault", "delete", created.id, "--yes"], 0);
    assert.match(deleted.stdout, /Deleted vault/);
    await expectExit(["vault", "get", created.id], 3);
    await expectExit(["vault", "delete", created.id, "-y"], 3);
    await expectExit(["vault", "get", "not-a-uuid"], 3);
    assert.deepEqual((await expectExit(["vault", "delete", (await run(["vault", "create", "x", "--json"])).json.id, "--json", "--yes"], 0)).json.deleted, true);
  });

  test("vault create --mode and enable-mpc --mode [--providers]", async () => {
    const multi = (await expectExit(["vault", "create", "hsm", "--mode", "2of3_multi_hsm", "--json"], 0)).json;
    assert.equal(multi.mpc_custody, "2of3_multi_hsm");
    assert.deepEqual(multi.mpc_providers, ["gcp", "aws", "azure"]);

    const plain = (await expectExit(["vault", "create", "later", "--json"], 0)).json;
    await expectExit(["vault", "enable-mpc", plain.id], 2);
    await expectExit(["vault", "enable-mpc", plain.id, "--mode", "3-of-5"], 2);
    const enabled = (await expectExit(["vault", "enable-mpc", plain.id, "--mode", "2of3_client_custody", "--providers", "aws,gcp", "--json"], 0)).json;
    assert.equal(enabled.mpc_custody, "2of3_client_custody");
    assert.deepEqual(enabled.mpc_providers, ["aws", "gcp", "client"]);
    // The same mode again is a no-op; another mode is a conflict (exit 1); an unknown vault is not found.
    await expectExit(["vault", "enable-mpc", plain.id, "--mode", "2of3_client_custody"], 0);
    const conflict = await expectExit(["vault", "enable-mpc", plain.id, "--mode", "2-of-3"], 1);
    assert.match(conflict.stderr, /409/);
    await expectExit(["vault", "enable-mpc", "00000000-0000-4000-8000-000000000000", "--mode", "2-of-2"], 3);
    // A provider slot this deployment lacks is the server's 400: exit 1.
    await expectExit(["vault", "create", "bad", "--mode", "2of2_client_custody", "--providers", "nowhere"], 1);
  });

  test("enable-mpc on a vault with secrets: the re-protected versions' client shares, shown once or written to a file", async () => {
    const vault = (await run(["vault", "create", "reprotect", "--json"])).json;
    await expectExit(["secret", "put", vault.id, "a/b"], 0, { input: "old-value" });
    const out = join(dir, "reprotected.json");
    const res = await expectExit(["vault", "enable-mpc", vault.id, "--mode", "2of2_client_custody", "--client-share-out", out], 0);
    assert.match(res.stderr, /shown ONCE/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const shares = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(shares[0].path, "a/b");
    assert.ok(!res.stdout.includes(shares[0].client_share), "written to the file, not printed");
    const read = await expectExit(["secret", "get", vault.id, "a/b"], 0, { env: { SHARDVAULT_CLIENT_SHARE: shares[0].client_share } });
    assert.equal(read.stdout, "old-value");
  });

  test("secret put, get, list, versions, rotate, delete in a vault without MPC", async () => {
    const vault = (await run(["vault", "create", "plain", "--json"])).json;
    const put = await expectExit(["secret", "put", vault.id, "db/password", "--type", "password"], 0, { input: "hunter2\n" });
    assert.match(put.stdout, /^VERSION\s+1$/m);
    assert.ok(!put.stdout.includes("hunter2"));
    // The value is exactly what was piped in, less the newline echo adds.
    assert.equal((await expectExit(["secret", "get", vault.id, "db/password"], 0)).stdout, "hunter2");

    const file = join(dir, "value.txt");
    writeFileSync(file, "line one\nline two\n");
    const second = (await expectExit(["secret", "put", vault.id, "db/password", "--value-file", file, "--metadata", '{"owner":"ops"}', "--json"], 0)).json;
    assert.equal(second.version, 2);
    assert.deepEqual(second.metadata, { owner: "ops" });
    assert.equal(second.client_share, undefined);
    const read = (await expectExit(["secret", "get", vault.id, "db/password", "--json"], 0)).json;
    assert.equal(read.value, "line one\nline two\n", "a value file is taken exactly");
    assert.equal((await expectExit(["secret", "get", vault.id, "db/password", "--version", "1"], 0)).stdout, "hunter2");
    // --vault ID names the vault instead of the first argument (1claw's CLI style).
    assert.equal((await expectExit(["secret", "get", "db/password", "--vault", vault.id, "--version", "1"], 0)).stdout, "hunter2");

    await expectExit(["secret", "put", vault.id, "api/key"], 0, { input: "k1" });
    const table = await expectExit(["secret", "list", vault.id], 0);
    assert.match(table.stdout.split("\n")[0]!, /^PATH\s+VERSION\s+TYPE\s+CREATED\s+EXPIRES$/);
    assert.match(table.stdout, /^db\/password\s+2\s+generic/m, "each write sets its own type (default generic)");
    const listed = (await expectExit(["secret", "list", vault.id, "--prefix", "api/", "--json"], 0)).json;
    assert.deepEqual(listed.secrets.map((s: any) => s.path), ["api/key"]);
    assert.ok(!JSON.stringify(listed).includes("k1"), "lists never carry values");
    // --limit pages in path order; the next page's command goes to standard error, its cursor into --json.
    const firstPage = await expectExit(["secret", "list", vault.id, "--limit", "1"], 0);
    assert.match(firstPage.stdout, /^api\/key\s/m);
    assert.doesNotMatch(firstPage.stdout, /db\/password/);
    const next = /--cursor (\S+)/.exec(firstPage.stderr)?.[1];
    assert.ok(next, `no next-page command: ${firstPage.stderr}`);
    const secondPage = (await expectExit(["secret", "list", vault.id, "--limit", "1", "--cursor", next, "--json"], 0)).json;
    assert.deepEqual(secondPage.secrets.map((s: any) => s.path), ["db/password"]);
    assert.equal(secondPage.next_cursor, undefined, "the last page has no cursor");
    await expectExit(["secret", "list", vault.id, "--cursor", next], 2);
    await expectExit(["secret", "list", vault.id, "--limit", "0"], 2);

    const rotated = (await expectExit(["secret", "rotate", vault.id, "api/key", "--json"], 0, { input: "k2" })).json;
    assert.equal(rotated.version, 2);
    assert.equal((await expectExit(["secret", "get", vault.id, "api/key"], 0)).stdout, "k2");
    const generated = (await expectExit(["secret", "rotate", vault.id, "api/key", "--generate", "--length", "16", "--charset", "hex", "--json"], 0)).json;
    assert.equal(generated.version, 3);
    assert.match((await expectExit(["secret", "get", vault.id, "api/key"], 0)).stdout, /^[0-9a-f]{16}$/);
    assert.match((await expectExit(["secret", "rotate", vault.id, "api/key", "--generate"], 0)).stdout, /^VERSION\s+4$/m);

    const versions = (await expectExit(["secret", "versions", vault.id, "api/key", "--json"], 0)).json;
    assert.deepEqual(versions.versions.map((v: any) => v.version).sort(), [1, 2, 3, 4]);
    assert.match((await expectExit(["secret", "versions", vault.id, "api/key"], 0)).stdout, /^VERSION\s+TYPE\s+CREATED\s+EXPIRES\s+DISABLED$/m);

    assert.match((await expectExit(["secret", "delete", vault.id, "api/key"], 0)).stdout, /Deleted api\/key/);
    await expectExit(["secret", "get", vault.id, "api/key"], 3);
    await expectExit(["secret", "get", vault.id, "never/written"], 3);
    await expectExit(["secret", "versions", vault.id, "never/written"], 3);
    await expectExit(["secret", "list", "00000000-0000-4000-8000-000000000000"], 3);
  });

  test("values never come from argv; usage errors exit 2", async () => {
    const vault = (await run(["vault", "create", "usage", "--json"])).json;
    const refused = await expectExit(["secret", "put", vault.id, "a", "--value", "visible-in-history"], 2);
    assert.match(refused.stderr, /--value is not accepted/);
    await expectExit(["secret", "rotate", vault.id, "a", "--value", "x"], 2);
    await expectExit(["secret", "get", vault.id, "a", "--client-share", "x"], 2);
    await expectExit(["secret", "put", vault.id, "a"], 2, {}); // nothing on standard input
    await expectExit(["secret", "put", vault.id, "../escape"], 2, { input: "x" });
    await expectExit(["secret", "get", vault.id, "a//b"], 2);
    await expectExit(["secret", "put", vault.id], 2, { input: "x" });
    await expectExit(["secret", "get", vault.id, "a", "extra"], 2);
    await expectExit(["secret", "get", vault.id, "a", "--version", "zero"], 2);
    await expectExit(["secret", "put", vault.id, "a", "--metadata", "[1]"], 2, { input: "x" });
    await expectExit(["secret", "list", vault.id, "--mode", "x"], 2);
    await expectExit(["secret", "frobnicate"], 2);
    await expectExit(["vault", "create"], 2);
    await expectExit(["vault", "list", "--no-such-option"], 2);
    // The server's own validation (an unknown type) is "other error".
    await expectExit(["secret", "put", vault.id, "a", "--type", "no-such-type"], 1, { input: "x" });
  });

  test("client custody: the share is announced loudly, written with mode 0600, and read from file or environment in that order", async () => {
    const vault = (await run(["vault", "create", "custody", "--mode", "2of2_client_custody", "--json"])).json;
    const shown = await expectExit(["secret", "put", vault.id, "api-keys/stripe", "--type", "api_key"], 0, { input: "sk_live_abc123" });
    assert.match(shown.stderr, /shown ONCE/);
    assert.match(shown.stderr, /NOT stored by the server/);
    const share = /^Client share \(store this\): (\S+)$/m.exec(shown.stdout)![1]!;

    const asJson = await expectExit(["secret", "put", vault.id, "other", "--json"], 0, { input: "o" });
    assert.match(asJson.json.client_share, /^[A-Za-z0-9+/]+=*$/);
    assert.match(asJson.stderr, /shown ONCE/);

    const out = join(dir, "shares.json");
    const filed = await expectExit(["secret", "put", vault.id, "api-keys/stripe", "--client-share-out", out, "--json"], 0, { input: "sk_live_v2" });
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const [entry] = JSON.parse(readFileSync(out, "utf8"));
    assert.deepEqual(Object.keys(entry), ["path", "version", "client_share"]);
    assert.deepEqual([entry.path, entry.version], ["api-keys/stripe", 2]);
    const fileShare: string = entry.client_share;
    assert.match(filed.stderr, /Written to/);
    assert.equal(filed.json.client_share, undefined, "not printed when written to a file");
    assert.equal(filed.json.version, 2);
    assert.ok(!filed.stdout.includes(fileShare));

    // No share: the server's 400 (client_share_required), exit 1, said in the command line's words.
    const missing = await expectExit(["secret", "get", vault.id, "api-keys/stripe"], 1);
    assert.match(missing.stderr, /client_share_required/);
    assert.match(missing.stderr, /needs its client share; give it with --client-share-file FILE/);
    assert.ok(!missing.stderr.includes("X-Client-Share"), missing.stderr);
    // --client-share-file wins over SHARDVAULT_CLIENT_SHARE, which wins over ONECLAW_CLIENT_SHARE.
    const latest = { env: { SHARDVAULT_CLIENT_SHARE: share, ONECLAW_CLIENT_SHARE: share } };
    assert.equal((await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--client-share-file", out], 0, latest)).stdout, "sk_live_v2");
    assert.equal((await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--version", "1"], 0, { env: { SHARDVAULT_CLIENT_SHARE: share, ONECLAW_CLIENT_SHARE: fileShare } })).stdout, "sk_live_abc123");
    assert.equal((await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--version", "1"], 0, { env: { ONECLAW_CLIENT_SHARE: share } })).stdout, "sk_live_abc123");
    await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--version", "1"], 1, { env: { SHARDVAULT_CLIENT_SHARE: fileShare, ONECLAW_CLIENT_SHARE: share } });
    const json = (await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--json"], 0, { env: { ONECLAW_CLIENT_SHARE: fileShare } })).json;
    assert.equal(json.value, "sk_live_v2");
    assert.equal(json.version, 2);
    await expectExit(["secret", "get", vault.id, "api-keys/stripe", "--client-share-file", join(dir, "absent")], 1);
  });

  test("share files: each write adds its entry, reads pick the path's (and version's) share; wrong shares are said in the CLI's words", async () => {
    const vault = (await run(["vault", "create", "share-file", "--mode", "2of3_client_custody", "--json"])).json;
    const file = join(dir, "book.json");
    await expectExit(["secret", "put", vault.id, "a", "--client-share-out", file], 0, { input: "a1" });
    await expectExit(["secret", "put", vault.id, "b", "--client-share-out", file], 0, { input: "b1" });
    await expectExit(["secret", "rotate", vault.id, "a", "--client-share-out", file], 0, { input: "a2" });
    const book = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(book.map((e: any) => [e.path, e.version]), [["a", 1], ["a", 2], ["b", 1]]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const read = (args: string[]) => expectExit(["secret", "get", vault.id, ...args, "--client-share-file", file], 0);
    assert.equal((await read(["a"])).stdout, "a2");
    assert.equal((await read(["a", "--version", "1"])).stdout, "a1");
    assert.equal((await read(["b"])).stdout, "b1");

    // A file holding one bare share serves the read it is given to.
    const bare = join(dir, "bare.share");
    writeFileSync(bare, `${book[2].client_share}\n`);
    assert.equal((await expectExit(["secret", "get", vault.id, "b", "--client-share-file", bare], 0)).stdout, "b1");
    const mismatch = await expectExit(["secret", "get", vault.id, "a", "--client-share-file", bare], 1);
    // Rebuilt on this machine (client-side reconstruction), so the crypto core's words, and no HTTP status.
    assert.match(mismatch.stderr, new RegExp(`the client share from --client-share-file ${bare} does not fit a: this client share belongs to another secret or version, not version 2 of a \\(client_share_mismatch\\)`));
    writeFileSync(bare, "not-a-share\n");
    const malformed = await expectExit(["secret", "get", vault.id, "b", "--client-share-file", bare], 1);
    assert.match(malformed.stderr, /the client share from --client-share-file .* cannot be used: it is malformed/);
    assert.ok(!malformed.stderr.includes("X-Client-Share"), malformed.stderr);

    // A file that is something else is never overwritten: refused before anything is written.
    const other = join(dir, "notes.txt");
    writeFileSync(other, "my notes\n");
    const refused = await expectExit(["secret", "put", vault.id, "c", "--client-share-out", other], 1, { input: "c1" });
    assert.match(refused.stderr, /exists and is not a share file/);
    assert.equal(readFileSync(other, "utf8"), "my notes\n");
    await expectExit(["secret", "get", vault.id, "c", "--client-share-file", file], 3);
  });

  test("the shown-once notice says per custody mode what losing the share means", async () => {
    const twoOfTwo = (await run(["vault", "create", "loss-2of2", "--mode", "2of2_client_custody", "--json"])).json;
    const put2 = await expectExit(["secret", "put", twoOfTwo.id, "k"], 0, { input: "v" });
    assert.match(put2.stderr, /If it is lost, the secret cannot be decrypted by anyone\./);
    const rotated = await expectExit(["secret", "rotate", twoOfTwo.id, "k", "--generate"], 0);
    assert.match(rotated.stderr, /cannot be decrypted by anyone/);

    // 2-of-3 client custody: gcp and aws together hold two of the three shares.
    const twoOfThree = (await run(["vault", "create", "loss-2of3", "--mode", "2of3_client_custody", "--json"])).json;
    const put3 = await expectExit(["secret", "put", twoOfThree.id, "k"], 0, { input: "v" });
    assert.match(put3.stderr, /shown ONCE/);
    assert.doesNotMatch(put3.stderr, /by anyone/);
    assert.match(put3.stderr, /Shardvault will not decrypt the secret and cannot recover it/);
    assert.match(put3.stderr, /key providers gcp and aws together hold 2 of the 3 shares/);

    // Strict client custody: gcp and aws together hold only the server part.
    const strict = (await run(["vault", "create", "loss-strict", "--mode", "2of3_client_required", "--json"])).json;
    const putStrict = await expectExit(["secret", "put", strict.id, "k"], 0, { input: "v" });
    assert.match(putStrict.stderr, /If it is lost, the secret cannot be decrypted by anyone\./);

    const reprotected = (await run(["vault", "create", "loss-enable", "--json"])).json;
    await expectExit(["secret", "put", reprotected.id, "x"], 0, { input: "old" });
    const enabled = await expectExit(["vault", "enable-mpc", reprotected.id, "--mode", "2of3_client_custody", "--providers", "aws,azure", "--client-share-out", join(dir, "loss.json")], 0);
    assert.doesNotMatch(enabled.stderr, /by anyone/);
    assert.match(enabled.stderr, /key providers aws and azure together hold 2 of the 3 shares/);
  });

  test("agent create, list, rotate-key; the agent's key works with the CLI and is refused what agents may not do", async () => {
    const vault = (await run(["vault", "create", "for-agent", "--json"])).json;
    await expectExit(["secret", "put", vault.id, "token"], 0, { input: "agent-readable" });
    const table = await expectExit(["agent", "create", "ci-bot", "--vault-ids", vault.id], 0);
    assert.match(table.stderr, /shown ONCE/);
    assert.match(table.stdout, /^API_KEY\s+ocv_\S+$/m);
    const created = (await expectExit(["agent", "create", "deployer", "--vault-ids", vault.id, "--scopes", "secrets:read", "--token-ttl", "600", "--json"], 0)).json;
    assert.match(created.api_key, /^ocv_/);
    assert.deepEqual(created.agent.vault_ids, [vault.id]);
    assert.equal(created.agent.token_ttl_seconds, 600);

    const listed = await expectExit(["agent", "list"], 0);
    assert.match(listed.stdout.split("\n")[0]!, /^ID\s+NAME\s+ACTIVE\s+VAULTS\s+KEY\s+CREATED$/);
    assert.ok(listed.stdout.includes(created.agent.id));
    assert.ok(!listed.stdout.includes(created.api_key), "keys are never listed");
    assert.ok((await expectExit(["agent", "list", "--json"], 0)).json.agents.some((a: any) => a.id === created.agent.id));

    const asAgent = { env: { SHARDVAULT_API_KEY: created.api_key } };
    // Agents read through policies.
    await expectExit(["policy", "add", vault.id, "--agent", created.agent.id, "--permissions", "read"], 0);
    assert.equal((await expectExit(["secret", "get", vault.id, "token"], 0, asAgent)).stdout, "agent-readable");
    await expectExit(["vault", "create", "not-allowed"], 4, asAgent);
    await expectExit(["agent", "list"], 4, asAgent);

    const rotated = (await expectExit(["agent", "rotate-key", created.agent.id, "--json"], 0)).json;
    assert.match(rotated.api_key, /^ocv_/);
    assert.notEqual(rotated.api_key, created.api_key);
    await expectExit(["secret", "get", vault.id, "token"], 4, asAgent);
    assert.equal((await expectExit(["secret", "get", vault.id, "token"], 0, { env: { SHARDVAULT_API_KEY: rotated.api_key } })).stdout, "agent-readable");
    await expectExit(["agent", "rotate-key", "00000000-0000-4000-8000-000000000000"], 3);
    await expectExit(["agent", "rotate-key"], 2);
  });

  test("authentication failures exit 4, an unreachable server 5", async () => {
    await expectExit(["vault", "list"], 4, { env: { SHARDVAULT_API_KEY: undefined } });
    const bad = await expectExit(["vault", "list", "--json"], 4, { env: { SHARDVAULT_API_KEY: "1ck_" + "x".repeat(43) } });
    assert.equal(JSON.parse(bad.stderr).error.type, "auth_error");
    assert.equal(JSON.parse(bad.stderr).status, 401);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await expectExit(["vault", "list"], 5, { env: { SHARDVAULT_URL: `http://127.0.0.1:${port}` } });
    assert.match(down.stderr, /no answer from the server/);
    await expectExit(["vault", "list", "--url", `http://127.0.0.1:${port}`], 5);
  });

  test("a 503 (key provider unavailable) or any 5xx exits 5", async () => {
    const fake: Server = createServer((req, res) => {
      if (req.url === "/v1/auth/api-key-token") {
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ access_token: "t", token_type: "Bearer", expires_in: 3600 }));
      }
      const status = req.url!.includes("500") ? 500 : 503;
      res.writeHead(status, { "content-type": "application/problem+json", "retry-after": "1" });
      res.end(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status, detail: "key provider gcp is unavailable", code: "provider_unavailable" }));
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
      const res = await expectExit(["secret", "get", "v", "a"], 5, { env: { SHARDVAULT_URL: url } });
      assert.match(res.stderr, /key provider gcp is unavailable \(503 provider_unavailable\)/);
      await expectExit(["vault", "get", "500"], 5, { env: { SHARDVAULT_URL: url } });
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});
