/**
 * CMEK in the SDK: the helpers follow the format (base64 of 0x01 | IV | ciphertext | tag, AES-256-GCM, no
 * associated data) — checked against an implementation of the format written here with node:crypto, in both
 * directions — and the client option encrypts writes and decrypts reads against a real server.
 */
import assert from "node:assert/strict";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { cmekDecrypt, cmekEncrypt, cmekFingerprint, createClient, generateCmekKey } from "../src/index.js";
import { startServer, type ServerHandle } from "./support.js";

/** The format, from its description. */
function formatEncrypt(plaintext: Buffer, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([0x01]), iv, body, cipher.getAuthTag()]).toString("base64");
}

function formatDecrypt(blob: string, key: Buffer): Buffer {
  const bytes = Buffer.from(blob, "base64");
  assert.equal(bytes[0], 0x01);
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(1, 13));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(13, bytes.length - 16)), decipher.final()]);
}

describe("CMEK helpers", () => {
  test("generateCmekKey gives 32 fresh random bytes; the fingerprint is SHA-256 in lowercase hex", async () => {
    const a = generateCmekKey();
    const b = generateCmekKey();
    assert.equal(a.length, 32);
    assert.notDeepEqual(a, b);
    assert.equal(await cmekFingerprint(a), createHash("sha256").update(a).digest("hex"));
  });

  test("values encrypted by the SDK decrypt with the format, and the format's decrypt with the SDK", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (text) => {
        const key = generateCmekKey();
        const blob = await cmekEncrypt(text, key);
        assert.equal(formatDecrypt(blob, Buffer.from(key)).toString("utf8"), text);
        assert.equal(await cmekDecrypt(formatEncrypt(Buffer.from(text, "utf8"), Buffer.from(key)), key), text);
      }),
      { numRuns: 50 },
    );
  });

  test("two encryptions of one value differ (fresh IV); the layout is version, IV, ciphertext, tag", async () => {
    const key = generateCmekKey();
    const [x, y] = [await cmekEncrypt("same", key), await cmekEncrypt("same", key)];
    assert.notEqual(x, y);
    assert.equal(Buffer.from(x, "base64").length, 1 + 12 + 4 + 16);
  });

  test("the wrong key, a tampered blob, or something else than a blob fails", async () => {
    const key = generateCmekKey();
    const blob = await cmekEncrypt("secret", key);
    await assert.rejects(cmekDecrypt(blob, generateCmekKey()), /does not decrypt/);
    const tampered = Buffer.from(blob, "base64");
    tampered[20]! ^= 1;
    await assert.rejects(cmekDecrypt(tampered.toString("base64"), key), /does not decrypt/);
    await assert.rejects(cmekDecrypt("bm90IGEgYmxvYg==", key), /not a CMEK blob/);
    await assert.rejects(cmekDecrypt(blob.replace(/=+$/, ""), key), /not a CMEK blob/);
    await assert.rejects(cmekEncrypt("x", new Uint8Array(16)), /32 bytes/);
  });
});

describe("the CMEK client option against a server", () => {
  let server: ServerHandle;
  before(async () => {
    server = await startServer({ database: "pglite" });
  });
  after(async () => {
    await server?.stop();
  });

  test("put encrypts before sending, get decrypts answers marked cmek_encrypted; without the key the blob is all one gets", async () => {
    const key = generateCmekKey();
    const admin = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const { data: vault } = await admin.vault.create({ name: "cmek", mpc_custody: "2-of-3" });
    assert.ok(vault);
    const enabled = await admin.vault.enableCmek(vault.id, { fingerprint: await cmekFingerprint(key) });
    assert.equal(enabled.data?.cmek_enabled, true);

    const withKey = createClient({ apiKey: server.adminKey, baseUrl: server.url, cmekKey: key });
    const written = await withKey.secrets.put(vault.id, "db/password", { type: "password", value: "hunter2-🔑" });
    assert.equal(written.meta.status, 201, JSON.stringify(written.error));
    const read = await withKey.secrets.get(vault.id, "db/password");
    assert.equal(read.data?.value, "hunter2-🔑");
    assert.equal(read.data?.cmek_encrypted, true);

    const raw = await admin.secrets.get(vault.id, "db/password");
    assert.equal(raw.data?.cmek_encrypted, true);
    assert.notEqual(raw.data?.value, "hunter2-🔑");
    assert.equal(await cmekDecrypt(raw.data!.value, key), "hunter2-🔑");

    // A plain value in a CMEK vault is refused by the server.
    const refused = await admin.secrets.set(vault.id, "db/plain", "not encrypted");
    assert.equal(refused.meta.status, 400);
    assert.equal(refused.error?.code, "cmek_value_malformed");
    assert.ok(!server.output().includes("hunter2"));
  });

  test("client-side rotation in a client-custody vault: the server refuses, the SDK re-encrypts with the shares", async () => {
    const [oldKey, newKey] = [generateCmekKey(), generateCmekKey()];
    const client = createClient({ apiKey: server.adminKey, baseUrl: server.url });
    const { data: vault } = await client.vault.create({ name: "cmek-cc", mpc_custody: "2of2_client_custody" });
    assert.ok(vault);
    await client.vault.enableCmek(vault.id, { fingerprint: await cmekFingerprint(oldKey) });
    const shares: Record<string, string> = {};
    for (const path of ["a", "b/c"]) {
      const written = await client.secrets.set(vault.id, path, await cmekEncrypt(`value of ${path}`, oldKey));
      shares[path] = written.data!.client_share!;
    }
    const serverSide = await client.vault.rotateCmek(vault.id, Buffer.from(oldKey).toString("base64"), Buffer.from(newKey).toString("base64"), await cmekFingerprint(newKey));
    assert.equal(serverSide.error?.code, "rotation_needs_client_shares");

    const rotated = await client.rotateCmekClientSide(vault.id, { oldKey, newKey, clientShares: shares });
    assert.equal(rotated.error, null, JSON.stringify(rotated.error));
    assert.equal(rotated.data!.rotated.length, 2);
    const after = await client.vault.get(vault.id);
    assert.equal(after.data?.cmek_fingerprint, await cmekFingerprint(newKey));
    for (const r of rotated.data!.rotated) {
      const read = await client.secrets.get(vault.id, r.path, { clientShare: r.client_share! });
      assert.equal(await cmekDecrypt(read.data!.value, newKey), `value of ${r.path}`);
      await assert.rejects(cmekDecrypt(read.data!.value, oldKey));
    }
  });
});
