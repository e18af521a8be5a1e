/**
 * Client-side reconstruction in every client-custody mode, against a real server (PGlite and PostgreSQL)
 * behind a proxy that records every byte the server receives:
 *
 * - a client-sealed write (`GET secret-seal`, `@shardvault/crypto/client` sealForServer, `PUT {sealed}`) and a
 *   client-side read (`X-Reconstruct: client`, openSealedVersion) round-trip the value, and the recorded bytes
 *   hold neither the value, nor the DEK, nor the client share (in any of their encodings);
 * - versions written either way read either way (a server-sealed one client-side, a client-sealed one with
 *   X-Client-Share);
 * - the answers carry as many server shares as the mode needs beside the client's, never enough to rebuild
 *   the DEK without it;
 * - refusals: both headers, an unknown X-Reconstruct, a plain or multi-HSM vault, a taken version, a layout
 *   that is not the vault's, malformed sealed input (each a 4xx, nothing stored); access limits and the audit
 *   log apply to client-side reads as to any read.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { combine, decodeClientShare, fromBase64, xorCombine } from "@shardvault/crypto";
import { openSealedVersion, sealForServer, type SealTarget } from "@shardvault/crypto/client";
import { api, assertProblem, DATABASE_KINDS, secretValue, type Api } from "./support/harness.js";
import { deploy, skipReasonFor, type Deployment } from "./support/postgres.js";
import { assertValue, createVault, mode, putSecret, readSecret, secretUrl, shareNeedles, type Needle } from "./support/mpc-support.js";
import { recordingProxy, type RecordingProxy } from "./support/recording-proxy.js";

const CLIENT_MODES = ["2of2_client_custody", "2of3_client_custody", "2of3_client_required"] as const;
const utf8 = (s: string) => new TextEncoder().encode(s);
const reconstruct = { headers: { "X-Reconstruct": "client" } };

/** Every form a secret byte string can take on the wire: raw, base64 (padded or not), hex. */
function needlesOf(label: string, bytes: Uint8Array): Needle[] {
  const b = Buffer.from(bytes);
  return [
    { label, bytes: b },
    { label: `${label} (base64)`, bytes: Buffer.from(b.toString("base64").replace(/=+$/, "")) },
    { label: `${label} (hex)`, bytes: Buffer.from(b.toString("hex")) },
  ];
}

function assertNotReceived(received: Buffer, needles: readonly Needle[], context: string): void {
  assert.ok(received.length > 0, `${context}: the proxy recorded the exchange`);
  for (const needle of needles) assert.equal(received.indexOf(needle.bytes), -1, `${context}: the server received the ${needle.label}`);
}

/** The DEK a client-sealed write made, rebuilt here (the test knows everything) to search the wire for it. */
async function dekOf(sealedShares: Array<{ index: number; share: string }>, clientShare: string): Promise<Uint8Array> {
  const client = await decodeClientShare(clientShare);
  const server = sealedShares[0]!;
  const y = fromBase64(server.share)!;
  return client.scheme === 1 ? xorCombine(y, client.share) : combine([Uint8Array.from([...y, server.index]), Uint8Array.from([...client.share, client.index])]);
}

for (const kind of DATABASE_KINDS) {
  describe(`client-side reconstruction on ${kind}`, { skip: await skipReasonFor(kind) }, () => {
    let deployment: Deployment;
    let proxy: RecordingProxy;
    let admin: Api;
    let viaProxy: Api;

    before(async () => {
      deployment = await deploy(kind);
      admin = api(deployment.server.url, deployment.server.adminKey);
      proxy = await recordingProxy(deployment.server.url);
      viaProxy = api(proxy.url, deployment.server.adminKey);
    });
    after(async () => {
      await proxy?.close();
      await deployment?.dispose();
    });

    /** A client-side write through the recording proxy: seal target, seal locally, PUT the sealed version. */
    async function clientWrite(vaultId: string, path: string, value: string, extra: Record<string, unknown> = {}) {
      const target = await viaProxy.get(`/v1/vaults/${vaultId}/secret-seal/${path}`);
      assert.equal(target.status, 200, target.text);
      const { sealed, clientShare } = await sealForServer(target.body as SealTarget, utf8(value));
      const res = await viaProxy.put(secretUrl(vaultId, path), { sealed, ...extra });
      assert.equal(res.status, 201, res.text);
      assert.ok(!("client_share" in res.body) && !("value" in res.body), res.text);
      return { written: res.body, sealed, clientShare, target: target.body as SealTarget };
    }

    /** A client-side read through the recording proxy, opened locally. */
    async function clientRead(vaultId: string, path: string, clientShare: string, version?: number) {
      const res = await viaProxy.get(version === undefined ? secretUrl(vaultId, path) : `/v1/vaults/${vaultId}/secret-version/${path}/${version}`, reconstruct);
      assert.equal(res.status, 200, res.text);
      assert.ok(!("value" in res.body), "a client-side read answered the value");
      const value = await openSealedVersion(res.body.sealed, clientShare, { vaultId, path, version: res.body.version });
      return { res, value: new TextDecoder().decode(value) };
    }

    for (const name of CLIENT_MODES) {
      test(`${name}: a client-sealed write and a client-side read never hand the server the value, the DEK or the client share`, async () => {
        const vaultId = (await createVault(admin, `recon ${name}`, { custody_mode: name })).id;
        const value = secretValue(`recon-${name}`);
        proxy.reset();
        const { written, sealed, clientShare, target } = await clientWrite(vaultId, "db/password", value, { type: "password", metadata: { env: "prod" } });
        assert.equal(written.version, 1);
        assert.equal(target.custody, name);
        const dek = await dekOf(sealed.server_shares, clientShare);
        const needles = [...needlesOf("value", utf8(value)), ...needlesOf("DEK", dek), ...shareNeedles(clientShare)];
        assertNotReceived(proxy.received(), needles, `${name} write`);

        proxy.reset();
        const { res, value: read } = await clientRead(vaultId, "db/password", clientShare);
        assert.equal(read, value);
        assert.equal(res.body.version, 1);
        assert.equal(res.body.type, "password");
        assert.deepEqual(res.body.metadata, { env: "prod" });
        assert.equal(res.body.sealed.server_shares.length, 1, "one server share: with the client's, exactly the threshold");
        assertNotReceived(proxy.received(), needles, `${name} read`);

        // Interop: the server-side read with the client's share opens the client-sealed version.
        assertValue(await readSecret(admin, vaultId, "db/password", clientShare), value, 1);
      });

      test(`${name}: a server-sealed version reads client-side, every version by number`, async () => {
        const vaultId = (await createVault(admin, `recon interop ${name}`, { custody_mode: name })).id;
        const first = secretValue("first");
        const w1 = await putSecret(admin, vaultId, "api/key", first, mode(name));
        const w2 = await clientWrite(vaultId, "api/key", "second");
        assert.equal(w2.written.version, 2);
        proxy.reset();
        assert.equal((await clientRead(vaultId, "api/key", w1.client_share!, 1)).value, first);
        assert.equal((await clientRead(vaultId, "api/key", w2.clientShare)).value, "second");
        assertNotReceived(proxy.received(), [...shareNeedles(w1.client_share!), ...shareNeedles(w2.clientShare)], `${name} reads`);
        // The wrong version's share: the client's own check refuses it, and the server never saw it.
        await assert.rejects(
          async () => clientRead(vaultId, "api/key", w1.client_share!),
          (error: any) => error.code === "client_share_mismatch",
        );
      });

      test(`${name}: a taken version, another layout and malformed sealed input are refused with 4xx, nothing stored`, async () => {
        const vaultId = (await createVault(admin, `recon refusals ${name}`, { custody_mode: name })).id;
        const target = (await admin.get(`/v1/vaults/${vaultId}/secret-seal/k`)).body as SealTarget;
        const a = await sealForServer(target, utf8("a"));
        const b = await sealForServer(target, utf8("b"));
        assert.equal((await admin.put(secretUrl(vaultId, "k"), { sealed: a.sealed })).status, 201);
        assertProblem(await admin.put(secretUrl(vaultId, "k"), { sealed: b.sealed }), 409, "version_conflict");
        const ahead = await sealForServer({ ...target, version: 5 }, utf8("ahead"));
        assertProblem(await admin.put(secretUrl(vaultId, "k"), { sealed: ahead.sealed }), 409, "version_conflict");
        const next = (await admin.get(`/v1/vaults/${vaultId}/secret-seal/k`)).body as SealTarget;
        assert.equal(next.version, 2);
        const c = await sealForServer(next, utf8("c"));
        assertProblem(await admin.put(secretUrl(vaultId, "k"), { sealed: { ...c.sealed, providers: ["azure", ...c.sealed.providers.slice(1)] } }), 409, "layout_changed");
        const bad: Array<[Record<string, unknown>, number, string]> = [
          [{ format: 2 }, 400, "sealed_invalid"],
          [{ value: "not base64!" }, 400, "sealed_invalid"],
          [{ value: Buffer.from([2, ...new Uint8Array(40)]).toString("base64") }, 400, "sealed_invalid"],
          [{ commitment: Buffer.alloc(16).toString("base64") }, 400, "sealed_invalid"],
          [{ server_shares: [] }, 400, "sealed_invalid"],
          [{ server_shares: c.sealed.server_shares.map((s) => ({ ...s, index: s.index + 1 })) }, 400, "sealed_invalid"],
          [{ server_shares: c.sealed.server_shares.map((s) => ({ ...s, share: Buffer.alloc(31).toString("base64") })) }, 400, "sealed_invalid"],
          [{ extra: 1 }, 400, "validation_error"],
        ];
        for (const [change, status, code] of bad) assertProblem(await admin.put(secretUrl(vaultId, "k"), { sealed: { ...c.sealed, ...change } }), status, code, undefined, JSON.stringify(change));
        assertProblem(await admin.put(secretUrl(vaultId, "k"), { sealed: c.sealed, value: "both" }), 400, "validation_error");
        assertProblem(await admin.put(secretUrl(vaultId, "k"), { type: "generic" }), 400, "validation_error");
        // Nothing of the refused writes was stored, and the next version is still 2.
        assert.equal((await admin.get(`/v1/vaults/${vaultId}/secret-versions/k`)).body.versions.length, 1);
        assert.equal((await admin.put(secretUrl(vaultId, "k"), { sealed: c.sealed })).status, 201);
        assert.equal((await clientRead(vaultId, "k", c.clientShare)).value, "c");
      });
    }

    test("refused: both headers, an unknown X-Reconstruct, and client-side reconstruction outside client custody", async () => {
      const client = (await createVault(admin, "recon headers", { custody_mode: "2of2_client_custody" })).id;
      const w = await putSecret(admin, client, "p", "v", mode("2of2_client_custody"));
      assertProblem(await admin.get(secretUrl(client, "p"), { headers: { "X-Reconstruct": "client", "X-Client-Share": w.client_share! } }), 400, "conflicting_headers");
      assertProblem(await admin.get(secretUrl(client, "p"), { headers: { "X-Reconstruct": "browser" } }), 400, "invalid_reconstruct");
      assertValue(await admin.get(secretUrl(client, "p"), { headers: { "X-Reconstruct": "server", "X-Client-Share": w.client_share! } }), "v", 1);
      for (const extra of [{}, { custody_mode: "2of3_multi_hsm" }]) {
        const vaultId = (await createVault(admin, `recon not client ${JSON.stringify(extra)}`, extra)).id;
        await putSecret(admin, vaultId, "p", "v", extra.custody_mode ? mode("2of3_multi_hsm") : undefined);
        assertProblem(await admin.get(secretUrl(vaultId, "p"), reconstruct), 400, "client_reconstruction_unavailable");
        assertProblem(await admin.get(`/v1/vaults/${vaultId}/secret-seal/p`), 400, "client_reconstruction_unavailable");
      }
    });

    test("client-side reads count toward max_access_count and are audited as reads", async () => {
      const vaultId = (await createVault(admin, "recon limits", { custody_mode: "2of3_client_custody" })).id;
      const { clientShare } = await clientWrite(vaultId, "once", "only once", { max_access_count: 1 });
      assert.equal((await clientRead(vaultId, "once", clientShare)).value, "only once");
      assertProblem(await admin.get(secretUrl(vaultId, "once"), reconstruct), 410, "access_limit_reached");
      const audit = await admin.get(`/v1/audit/events?action=secret.read&limit=100`);
      assert.equal(audit.status, 200, audit.text);
      const events = (audit.body.events as any[]).filter((e) => e.details?.vault_id === vaultId && e.details?.path === "once");
      assert.equal(events.length, 1);
      assert.equal(events[0].details.reconstruct, "client");
    });
  });
}
