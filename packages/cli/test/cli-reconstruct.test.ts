/**
 * Client-side reconstruction is the command line's way in client-custody vaults: the linked bin against a real
 * server, through a proxy that records every byte the server is sent. In every client-custody mode:
 *
 * - `secret put` seals on this machine (seal target, `PUT { sealed }`) and records or prints the client share as
 *   for any client-custody write; `secret get` and `run` send `X-Reconstruct: client` and no share. No request
 *   carries the value or the client share (text, raw share bytes, base64, hex); the value round-trips.
 * - `--reconstruct server` is the 1claw way (the share is sent as X-Client-Share), and reads what was sealed here.
 * - A wrong share exits 1 with the crypto core's code, in the CLI's words.
 * - A vault without client custody reads and writes as before, even with a client share in the environment.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CUSTODY_MODE_NAMES } from "@shardvault/sdk";
import { assertNeverSent, startRecordingProxy, type RecordingProxy } from "../../sdk/test/recording-proxy.js";
import { cli, makeTempDir, startServer, type ServerHandle } from "./support.js";

const CLIENT_CUSTODY_MODES = CUSTODY_MODE_NAMES.filter((mode) => mode.includes("client"));

describe("shardvault in client-custody vaults, through a recording proxy", () => {
  let server: ServerHandle;
  let proxy: RecordingProxy;
  let env: Record<string, string>;
  let dir: string;
  const expectExit = async (args: string[], code: number, opts: { input?: string; env?: Record<string, string | undefined> } = {}) => {
    const res = await cli(args, { ...opts, env: { ...env, ...opts.env } });
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };
  const recorded = <T>(work: () => Promise<T>) => proxy.during(work);
  const shareIn = (file: string, path: string, version: number): string =>
    JSON.parse(readFileSync(file, "utf8")).find((e: { path: string; version: number }) => e.path === path && e.version === version).client_share;

  before(async () => {
    server = await startServer({ database: "pglite" });
    proxy = await startRecordingProxy(server.url);
    env = { SHARDVAULT_URL: proxy.url, SHARDVAULT_API_KEY: server.adminKey };
    dir = makeTempDir("shardvault-cli-reconstruct-");
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test("the modes under test include 2of2_client_custody and 2of3_client_custody", () => {
    assert.ok(CLIENT_CUSTODY_MODES.includes("2of2_client_custody"));
    assert.ok(CLIENT_CUSTODY_MODES.includes("2of3_client_custody"));
  });

  for (const mode of CLIENT_CUSTODY_MODES) {
    test(`${mode}: put, get and run never send the value or the client share; the value round-trips`, async () => {
      const vault = (await expectExit(["vault", "create", `recon-${mode}`, "--mode", mode, "--json"], 0)).json.id as string;
      const shares = join(dir, `${mode}.json`);
      const value = `sk_live_${crypto.randomUUID()}`;

      const put = await recorded(() => expectExit(["secret", "put", vault, "api/key", "--type", "api_key", "--client-share-out", shares], 0, { input: value }));
      assert.match(put.result.stderr, /shown ONCE/);
      const share = shareIn(shares, "api/key", 1);
      const writes = put.exchanges.filter((e) => e.url.includes("/secret"));
      assert.deepEqual(writes.map((e) => `${e.method} ${e.url} ${e.status}`), [`GET /v1/vaults/${vault}/secret-seal/api/key 200`, `PUT /v1/vaults/${vault}/secrets/api/key 201`]);
      assertNeverSent(put.exchanges, value, share);

      const get = await recorded(() => expectExit(["secret", "get", vault, "api/key", "--client-share-file", shares], 0));
      assert.equal(get.result.stdout, value);
      assert.deepEqual(get.exchanges.map((e) => [e.headers["x-reconstruct"], e.headers["x-client-share"]]), [["client", undefined]]);
      assertNeverSent(get.exchanges, value, share);

      const ran = await recorded(() => expectExit(["run", "--vault", vault, "--prefix", "api/", "--client-share-file", shares, "--", process.execPath, "-e", "process.stdout.write(process.env.KEY)"], 0));
      assert.equal(ran.result.stdout, value);
      assertNeverSent(ran.exchanges, value, share);

      // Printed once without --client-share-out, exactly as for any client-custody write; read from the environment.
      const rotated = await recorded(() => expectExit(["secret", "rotate", vault, "api/key"], 0, { input: `${value}-2` }));
      const printed = /^Client share \(store this\): (\S+)$/m.exec(rotated.result.stdout)![1]!;
      assertNeverSent(rotated.exchanges, `${value}-2`, printed);
      const fromEnv = await recorded(() => expectExit(["secret", "get", vault, "api/key"], 0, { env: { SHARDVAULT_CLIENT_SHARE: printed } }));
      assert.equal(fromEnv.result.stdout, `${value}-2`);
      assertNeverSent(fromEnv.exchanges, `${value}-2`, printed);
      assert.equal((await expectExit(["secret", "get", vault, "api/key", "--version", "1", "--client-share-file", shares], 0)).stdout, value);
    });

    test(`${mode}: --reconstruct server sends the share (1claw's way) and reads what was sealed here`, async () => {
      const vault = (await expectExit(["vault", "create", `server-${mode}`, "--mode", mode, "--json"], 0)).json.id as string;
      const shares = join(dir, `server-${mode}.json`);
      await expectExit(["secret", "put", vault, "db/password", "--client-share-out", shares], 0, { input: "hunter2" });
      const share = shareIn(shares, "db/password", 1);
      const read = await recorded(() => expectExit(["secret", "get", vault, "db/password", "--client-share-file", shares, "--reconstruct", "server"], 0));
      assert.equal(read.result.stdout, "hunter2");
      assert.equal(read.exchanges[0]!.headers["x-client-share"], share);
      assert.equal(read.exchanges[0]!.headers["x-reconstruct"], undefined);

      const serverSealed = await recorded(() => expectExit(["secret", "put", vault, "db/replica", "--client-share-out", shares, "--reconstruct", "server"], 0, { input: "replica-pw" }));
      assert.deepEqual(serverSealed.exchanges.filter((e) => e.url.includes("/secret")).map((e) => e.method), ["PUT"]);
      assert.equal((await expectExit(["secret", "get", vault, "db/replica", "--client-share-file", shares], 0)).stdout, "replica-pw");
      await expectExit(["secret", "get", vault, "db/replica", "--reconstruct", "elsewhere"], 2);
      await expectExit(["secret", "rotate", vault, "db/replica", "--generate", "--reconstruct", "client"], 2);
    });

    test(`${mode}: a wrong client share exits 1 with the crypto core's code`, async () => {
      const vault = (await expectExit(["vault", "create", `wrong-${mode}`, "--mode", mode, "--json"], 0)).json.id as string;
      const shares = join(dir, `wrong-${mode}.json`);
      await expectExit(["secret", "put", vault, "a", "--client-share-out", shares], 0, { input: "first" });
      await expectExit(["secret", "put", vault, "b", "--client-share-out", shares], 0, { input: "other" });
      const res = await expectExit(["secret", "get", vault, "a"], 1, { env: { SHARDVAULT_CLIENT_SHARE: shareIn(shares, "b", 1) } });
      assert.match(res.stderr, /the client share from SHARDVAULT_CLIENT_SHARE does not fit a: .*client_share_mismatch/);
    });
  }

  test("a vault without client custody reads and writes as before, a client share in the environment or not", async () => {
    const vault = (await expectExit(["vault", "create", "plain", "--json"], 0)).json.id as string;
    const custody = (await expectExit(["vault", "create", "for-a-share", "--mode", "2of2_client_custody", "--json"], 0)).json.id as string;
    const share = /^Client share \(store this\): (\S+)$/m.exec((await expectExit(["secret", "put", custody, "x"], 0, { input: "x" })).stdout)![1]!;

    const put = await recorded(() => expectExit(["secret", "put", vault, "k", "--json"], 0, { input: "plain value", env: { SHARDVAULT_CLIENT_SHARE: share } }));
    assert.equal(put.result.json.client_share, undefined);
    assert.deepEqual(put.exchanges.filter((e) => e.url.includes("/secret")).map((e) => `${e.method} ${e.status}`), ["GET 400", "PUT 201"], "the seal target refused, then an ordinary write");
    const get = await recorded(() => expectExit(["secret", "get", vault, "k"], 0, { env: { SHARDVAULT_CLIENT_SHARE: share } }));
    assert.equal(get.result.stdout, "plain value");
    assert.ok(get.exchanges.every((e) => e.headers["x-client-share"] === undefined), "the share is never sent to a vault that has no use for it");
  });
});
