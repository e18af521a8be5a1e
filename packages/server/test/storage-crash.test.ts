/**
 * Crash safety: a write answered 201 survives `kill -9` of the server and a restart on the same data folder
 * (PGlite) or database (PostgreSQL); a dead server's folder lock does not block the restart; and a second
 * process on a PGlite folder that a live server holds exits at once, naming the folder.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { api, assertNoLeak, DATABASE_KINDS, secretValue, ServerStartError, SHOWN_ONCE, startServer, type ServerHandle } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const kind of DATABASE_KINDS) {
  describe(`storage-crash on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    const deployments: Deployment[] = [];
    const secrets: string[] = [];
    const outputs: Array<() => string> = [];

    after(async () => {
      await Promise.all(deployments.map((d) => d.dispose()));
    });

    test("writes answered 201 survive kill -9 and a restart on the same storage", async () => {
      const deployment = await deploy(kind);
      deployments.push(deployment);
      const first = deployment.server;
      outputs.push(first.output);
      const key = first.adminKey;
      secrets.push(key);
      const admin = api(first.url, key);
      const vault = await admin.post("/v1/vaults", { name: "crash" });
      assert.equal(vault.status, 201, vault.text);
      const vaultId = vault.body.id as string;

      // Sequential writes, then concurrent ones still in flight when the process is killed.
      const acknowledged: Array<{ path: string; version: number; value: string }> = [];
      for (let i = 0; i < 5; i++) {
        const value = secretValue(`seq${i}`);
        secrets.push(value);
        const res = await admin.put(`/v1/vaults/${vaultId}/secrets/crash/seq`, { value, metadata: { i } });
        assert.equal(res.status, 201, res.text);
        acknowledged.push({ path: "crash/seq", version: res.body.version, value });
      }
      const inFlight: Array<Promise<void>> = [];
      let answered = 0;
      let killed: Promise<unknown> | undefined;
      for (let i = 0; i < 40; i++) {
        const value = secretValue(`par${i}`);
        secrets.push(value);
        const path = `crash/par-${i % 4}`;
        inFlight.push(
          admin.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value }).then(
            (res) => {
              if (res.status === 201) acknowledged.push({ path, version: res.body.version, value });
              else assert.ok(res.status >= 500 || res.status === 0, res.text);
              // Kill while the remaining writes are still in flight.
              if (++answered === 10) killed ??= first.kill9();
            },
            () => undefined, // connection reset by the kill: not acknowledged, so no promise was made
          ),
        );
      }
      await Promise.all(inFlight);
      await (killed ?? first.kill9());
      assert.equal(first.process.exitCode, null, "killed by a signal, not exited");
      assert.equal(first.process.signalCode, "SIGKILL");
      assert.ok(acknowledged.length >= 15, `only ${acknowledged.length} writes were acknowledged`);

      if (kind === "pglite") {
        // The dead process's lock is still there, naming its pid: stale, and must not block the restart.
        const lockFile = join(first.dataDir, "shardvault.lock");
        assert.ok(existsSync(lockFile), "kill -9 leaves the folder lock behind");
        const owner = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
        assert.equal(owner, first.process.pid);
        assert.equal(isAlive(owner), false);
      }

      const second = await deployment.restart();
      outputs.push(second.output);
      assert.equal([...second.output().matchAll(SHOWN_ONCE)].length, 0, "a restart creates no new admin key");
      assert.doesNotMatch(second.output(), /applied migrations/, "a restart applies no migration again");
      const again = api(second.url, key);
      for (const { path, version, value } of acknowledged) {
        const res = await again.get(`/v1/vaults/${vaultId}/secrets/${path}?version=${version}`);
        assert.equal(res.status, 200, `${path} v${version} was answered 201 before the crash: ${res.text}`);
        assert.equal(res.body.value, value, `${path} v${version}`);
      }
      // Version numbers stay unique per path, and a new write continues after every number handed out.
      for (const path of ["crash/seq", "crash/par-0", "crash/par-1", "crash/par-2", "crash/par-3"]) {
        const listed = await again.get(`/v1/vaults/${vaultId}/secret-versions/${path}`);
        if (listed.status === 404) continue; // none of its writes finished
        const versions = listed.body.versions.map((m: { version: number }) => m.version as number);
        assert.equal(new Set(versions).size, versions.length, `${path}: duplicate versions ${versions}`);
        const value = secretValue("after");
        secrets.push(value);
        const next = await again.put(`/v1/vaults/${vaultId}/secrets/${path}`, { value });
        assert.equal(next.status, 201, next.text);
        const acked = acknowledged.filter((a) => a.path === path).map((a) => a.version);
        assert.ok(next.body.version > Math.max(...versions, ...acked), `${path}: new version ${next.body.version} repeats a number`);
        assert.equal((await again.get(`/v1/vaults/${vaultId}/secrets/${path}`)).body.value, value);
      }
      assert.equal((await again.get(`/v1/vaults/${vaultId}/secret-versions/crash/seq`)).body.versions.length, 6);
      const exit = await second.stop();
      assert.equal(exit.code, 0, second.output());
    });

    test("a server killed right after one acknowledged write keeps it", async () => {
      const deployment = await deploy(kind);
      deployments.push(deployment);
      const first = deployment.server;
      outputs.push(first.output);
      secrets.push(first.adminKey);
      const admin = api(first.url, first.adminKey);
      const vaultId = (await admin.post("/v1/vaults", { name: "one-write" })).body.id as string;
      const value = secretValue("single");
      secrets.push(value);
      const res = await admin.put(`/v1/vaults/${vaultId}/secrets/only/one`, { value, max_access_count: 3 });
      assert.equal(res.status, 201, res.text);
      await first.kill9();

      const second = await deployment.restart();
      outputs.push(second.output);
      const read = await api(second.url, first.adminKey).get(`/v1/vaults/${vaultId}/secrets/only/one`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.body.value, value);
      assert.equal(read.body.version, 1);
      // The vault made before the crash is there too.
      assert.equal((await api(second.url, first.adminKey).get(`/v1/vaults/${vaultId}`)).status, 200);
      await second.stop();
    });

    if (kind === "pglite") {
      test("a second process on a data folder a live server holds exits at once, naming the folder", async () => {
        const deployment = await deploy(kind);
        deployments.push(deployment);
        const live = deployment.server;
        outputs.push(live.output);
        secrets.push(live.adminKey);
        const admin = api(live.url, live.adminKey);
        const vaultId = (await admin.post("/v1/vaults", { name: "locked" })).body.id as string;
        const value = secretValue("locked");
        secrets.push(value);
        assert.equal((await admin.put(`/v1/vaults/${vaultId}/secrets/held`, { value })).status, 201);

        let intruder: ServerHandle | undefined;
        const error = await startServer({ database: "pglite", dataDir: live.dataDir }).then(
          (s) => {
            intruder = s;
            return undefined;
          },
          (e: unknown) => e,
        );
        if (intruder) {
          deployment.servers.push(intruder);
          assert.fail(`a second server started on ${live.dataDir} while another holds it`);
        }
        assert.ok(error instanceof ServerStartError, String(error));
        assert.equal(error.exit?.code, 1, error.message);
        assert.ok(error.output.includes(live.dataDir), `the message names the folder:\n${error.output}`);
        assert.match(error.output, /in use|locked/i);
        assert.match(error.output, new RegExp(`pid ${live.process.pid}`));
        assert.doesNotMatch(error.output, /listening on/);
        assertNoLeak(error.output, secrets);

        // The live server is unharmed and still holds its lock.
        const lockFile = join(live.dataDir, "shardvault.lock");
        assert.equal(Number.parseInt(readFileSync(lockFile, "utf8"), 10), live.process.pid);
        const read = await admin.get(`/v1/vaults/${vaultId}/secrets/held`);
        assert.equal(read.status, 200, read.text);
        assert.equal(read.body.value, value);
        assert.equal((await admin.put(`/v1/vaults/${vaultId}/secrets/held`, { value })).body.version, 2);

        // A clean stop releases the lock; the next start then takes the folder.
        assert.equal((await live.stop()).code, 0);
        assert.equal(existsSync(lockFile), false, "a clean stop removes the lock");
        const next = await deployment.restart();
        outputs.push(next.output);
        assert.equal((await api(next.url, live.adminKey).get(`/v1/vaults/${vaultId}/secrets/held`)).body.version, 2);
        await next.stop();
      });
    }

    test("no server output holds a secret or an API key", () => {
      assert.ok(outputs.length >= 4);
      for (const output of outputs) assertNoLeak(output(), secrets);
    });
  });
}
