/**
 * Client-side reconstruction (`@shardvault/crypto/client`): the WebCrypto engine agrees with the server's Node
 * one byte for byte, what a client seals the server-side envelope can open (and the other way round), a client
 * opens exactly the version it asked for with exactly its own share, and the client entry stays Node-free.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import {
  combine,
  commitDek,
  commitmentContext,
  decodeClientShare,
  deriveValueKey,
  fromBase64,
  open,
  openSealedVersion,
  seal,
  sealForServer,
  toBase64,
  valueContext,
  verifyDekCommitment,
  xorCombine,
  type SealedWrite,
  type SealTarget,
  type VersionRef,
} from "../src/index.js";
import { webCommitDek, webOpenValue, webSealValue } from "../src/web-crypto.js";
import { rejectsCode } from "./support/assert-code.js";

const bytes = (text: string) => fromBase64(text)!;
const utf8 = (text: string) => new TextEncoder().encode(text);

test("WebCrypto and Node derive the same commitment and seal the same format (property, both directions)", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 64 }), async (dek, plaintext, aad) => {
      assert.deepEqual(Buffer.from(await webCommitDek(dek, aad)), commitDek(dek, aad));
      const valueKey = deriveValueKey(dek);
      assert.deepEqual(Buffer.from(await webOpenValue(dek, seal(valueKey, plaintext, aad), aad)), Buffer.from(plaintext));
      assert.deepEqual(Buffer.from(open(valueKey, await webSealValue(dek, plaintext, aad), aad)), Buffer.from(plaintext));
    }),
    { numRuns: 40 },
  );
});

/** The layouts of the client-custody modes: 2-of-2 XOR, strict (XOR, server part at two slots), 2-of-3 Shamir. */
const TARGETS: SealTarget[] = [
  { format: 1, vault_id: "v-1", path: "db/pw", version: 4, custody: "2of2_client_custody", scheme: "xor", threshold: 2, providers: ["gcp", "client"] },
  { format: 1, vault_id: "v-1", path: "db/pw", version: 4, custody: "2of3_client_required", scheme: "xor", threshold: 2, providers: ["gcp", "aws", "client"] },
  { format: 1, vault_id: "v-1", path: "db/pw", version: 4, custody: "2of3_client_custody", scheme: "shamir", threshold: 2, providers: ["gcp", "aws", "client"] },
];
const refOf = (t: SealTarget): VersionRef => ({ vaultId: t.vault_id, path: t.path, version: t.version });
const protectionOf = (t: SealTarget) => ({ custody: t.custody, threshold: t.threshold, providers: t.providers });

/** What the server answers a client-side read of what `sealed` stored: one server share and the commitment's context. */
const readAnswer = (t: SealTarget, sealed: SealedWrite, shareAt = 0) => ({
  format: 1,
  value: sealed.value,
  commitment: sealed.commitment,
  context: toBase64(commitmentContext(refOf(t), protectionOf(t))),
  server_shares: [sealed.server_shares[shareAt]!],
});

for (const target of TARGETS) {
  test(`${target.custody}: a client-sealed version opens with the server's Node envelope (shares combined, commitment checked)`, async () => {
    const { sealed, clientShare } = await sealForServer(target, utf8("hunter2"));
    assert.equal(sealed.version, target.version);
    assert.deepEqual(sealed.providers, target.providers);
    const client = await decodeClientShare(clientShare);
    assert.equal(client.index, target.providers.length, "the client share's index is its place in the holder list");
    const server = sealed.server_shares.map((s) => ({ index: s.index, y: bytes(s.share) }));
    assert.equal(server.length, target.scheme === "xor" ? 1 : target.providers.length - 1);
    const dek =
      target.scheme === "xor"
        ? xorCombine(server[0]!.y, client.share)
        : combine([Uint8Array.from([...server[0]!.y, server[0]!.index]), Uint8Array.from([...client.share, client.index])], { threshold: 2 });
    assert.ok(verifyDekCommitment(dek, commitmentContext(refOf(target), protectionOf(target)), bytes(sealed.commitment)));
    assert.equal(Buffer.from(open(deriveValueKey(dek), bytes(sealed.value), valueContext(refOf(target)))).toString(), "hunter2");
  });

  test(`${target.custody}: openSealedVersion opens with the client's share and any one server share`, async () => {
    const { sealed, clientShare } = await sealForServer(target, utf8("correct horse"));
    for (let at = 0; at < sealed.server_shares.length; at++) {
      const value = await openSealedVersion(readAnswer(target, sealed, at), clientShare, refOf(target));
      assert.equal(Buffer.from(value).toString(), "correct horse");
    }
  });

  test(`${target.custody}: openSealedVersion refuses another version's share, another version's answer, a wrong share and a tampered value`, async () => {
    const { sealed, clientShare } = await sealForServer(target, utf8("v4"));
    const ref = refOf(target);
    const other = await sealForServer({ ...target, version: 5 }, utf8("v5"));
    await rejectsCode(() => openSealedVersion(readAnswer(target, sealed), other.clientShare, ref), "client_share_mismatch", /another secret or version/);
    // The server passes off version 5's sealed value as version 4: its context names version 5.
    const v5 = { ...target, version: 5 };
    await rejectsCode(() => openSealedVersion(readAnswer(v5, other.sealed), clientShare, ref), "sealed_context_mismatch");
    // A share of this very version from another sealing (same tag, other bytes): the commitment tells.
    const again = await sealForServer(target, utf8("v4 again"));
    await rejectsCode(() => openSealedVersion(readAnswer(target, sealed), again.clientShare, ref), "client_share_invalid");
    const tampered = bytes(sealed.value);
    tampered[tampered.length - 1]! ^= 1;
    await rejectsCode(() => openSealedVersion({ ...readAnswer(target, sealed), value: toBase64(tampered) }, clientShare, ref), "sealed_auth_failed");
    await rejectsCode(() => openSealedVersion({ ...readAnswer(target, sealed), server_shares: [] }, clientShare, ref), "sealed_malformed");
    for (const entry of [null, 1, { index: "1", share: "x" }, { index: 1 }]) {
      await rejectsCode(() => openSealedVersion({ ...readAnswer(target, sealed), server_shares: [entry as never] }, clientShare, ref), "sealed_malformed");
    }
    await rejectsCode(() => openSealedVersion({ ...readAnswer(target, sealed), commitment: "not base64!" }, clientShare, ref), "sealed_malformed");
  });
}

test("sealForServer refuses a seal target that is no client-custody layout", async () => {
  const target = TARGETS[0]!;
  await rejectsCode(() => sealForServer({ ...target, providers: ["gcp", "aws"] }, utf8("x")), "sealed_malformed");
  await rejectsCode(() => sealForServer({ ...target, scheme: "rsa" as never }, utf8("x")), "sealed_malformed");
  await rejectsCode(() => sealForServer({ ...target, format: 2 }, utf8("x")), "sealed_unknown_version");
});

test("the client entry (@shardvault/crypto/client) imports no Node module, however deep", () => {
  const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(join(dist, file), "utf8");
    for (const [, specifier] of source.matchAll(/(?:import|export)[^'"]*from\s*["']([^"']+)["']/g)) {
      assert.ok(specifier!.startsWith("./"), `${file} imports ${specifier}: the client entry must stay Node-free and dependency-free`);
      visit(join(dirname(file), specifier!));
    }
  };
  visit("client.js");
  assert.ok(seen.has("client-custody.js") && seen.has("shamir.js"), "the walk reached the modules it checks");
});
