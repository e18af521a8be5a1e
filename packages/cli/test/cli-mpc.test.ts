/**
 * `shardvault mpc rotate|replace-provider|refresh|job` and `shardvault secret refresh`, the linked bin against a
 * real server (the development deployment: slots gcp, aws, azure):
 *
 * - rotate and refresh with --wait end completed, in table and --json form, and `mpc job` shows the job; the
 *   vault's secrets read afterwards;
 * - replace-provider without --from/--to is a usage error (2); a refused replacement (a slot already in the
 *   vault) and a job on a vault without MPC exit 1 with the server's code;
 * - secret refresh reads the current client share from a share file, records the new one in it (mode 0600) or
 *   prints it once, the new share reads and the old one is refused (client_share_invalid); a share on argv, or
 *   none at all, is a usage error (2).
 */
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cli, makeTempDir, startServer, type ServerHandle } from "./support.js";

describe("shardvault mpc and secret refresh against a real server", () => {
  let server: ServerHandle;
  let env: Record<string, string>;
  let dir: string;
  const expectExit = async (args: string[], code: number, opts: { input?: string; env?: Record<string, string | undefined> } = {}) => {
    const res = await cli(args, { ...opts, env: { ...env, ...opts.env } });
    assert.equal(res.code, code, `shardvault ${args.join(" ")} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
    return res;
  };

  before(async () => {
    server = await startServer({ database: "pglite" });
    env = { SHARDVAULT_URL: server.url, SHARDVAULT_API_KEY: server.adminKey };
    dir = makeTempDir("shardvault-cli-mpc-");
  });
  after(async () => {
    await server?.stop();
  });

  test("mpc rotate, refresh and job; refusals", async () => {
    const vault = (await expectExit(["vault", "create", "hsm", "--mode", "2of3_multi_hsm", "--json"], 0)).json;
    await expectExit(["secret", "put", vault.id, "db/password"], 0, { input: "hunter2" });

    const rotated = await expectExit(["mpc", "rotate", vault.id, "--wait"], 0);
    assert.match(rotated.stdout, /^KIND\s+rotate$/m);
    assert.match(rotated.stdout, /^STATUS\s+completed$/m);
    assert.match(rotated.stdout, /^PROGRESS\s+1\/1$/m);
    const refreshed = (await expectExit(["mpc", "refresh", vault.id, "--wait", "--json"], 0)).json;
    assert.deepEqual({ kind: refreshed.kind, status: refreshed.status, total: refreshed.total, processed: refreshed.processed }, { kind: "refresh", status: "completed", total: 1, processed: 1 });
    const shown = (await expectExit(["mpc", "job", vault.id, refreshed.id, "--json"], 0)).json;
    assert.deepEqual(shown, refreshed);
    assert.equal((await expectExit(["secret", "get", vault.id, "db/password"], 0)).stdout, "hunter2");

    await expectExit(["mpc", "replace-provider", vault.id, "--from", "gcp"], 2);
    const refused = await expectExit(["mpc", "replace-provider", vault.id, "--from", "gcp", "--to", "aws"], 1);
    assert.match(refused.stderr, /provider_already_in_vault/);
    const plain = (await expectExit(["vault", "create", "plain", "--json"], 0)).json;
    assert.match((await expectExit(["mpc", "rotate", plain.id], 1)).stderr, /mpc_not_enabled/);
    await expectExit(["mpc", "job", vault.id, "00000000-0000-4000-8000-000000000000"], 3);
  });

  test("secret refresh: a new client share from the current one, recorded in the share file; the old one refused", async () => {
    const vault = (await expectExit(["vault", "create", "custody", "--mode", "2of3_client_custody", "--json"], 0)).json;
    const shares = join(dir, "shares.json");
    await expectExit(["secret", "put", vault.id, "api/key", "--client-share-out", shares], 0, { input: "sk_live_1" });
    const entry = () => JSON.parse(readFileSync(shares, "utf8")).find((e: any) => e.path === "api/key" && e.version === 1).client_share as string;
    const first = entry();

    await expectExit(["secret", "refresh", vault.id, "api/key", "--client-share", first], 2);
    await expectExit(["secret", "refresh", vault.id, "api/key"], 2);
    const res = await expectExit(["secret", "refresh", vault.id, "api/key", "--client-share-file", shares, "--client-share-out", shares, "--json"], 0);
    assert.deepEqual(res.json, { version: 1, client_share_file: shares });
    assert.match(res.stderr, /shown ONCE/);
    assert.equal(statSync(shares).mode & 0o777, 0o600);
    const second = entry();
    assert.notEqual(second, first);
    assert.ok(!res.stdout.includes(second), "written to the file, not printed");
    assert.equal((await expectExit(["secret", "get", vault.id, "api/key", "--client-share-file", shares], 0)).stdout, "sk_live_1");
    assert.match((await expectExit(["secret", "get", vault.id, "api/key"], 1, { env: { SHARDVAULT_CLIENT_SHARE: first } })).stderr, /client_share_invalid/);

    // Printed once when no file is named.
    const printed = await expectExit(["secret", "refresh", vault.id, "api/key"], 0, { env: { SHARDVAULT_CLIENT_SHARE: second } });
    const third = /^Client share \(store this; the old one no longer works\): (\S+)$/m.exec(printed.stdout)![1]!;
    writeFileSync(join(dir, "third.share"), third);
    assert.equal((await expectExit(["secret", "get", vault.id, "api/key", "--client-share-file", join(dir, "third.share")], 0)).stdout, "sk_live_1");
  });
});
