/**
 * MPC stored data edited under a running server (PostgreSQL, SQL from the test):
 *
 * - binding: a 2of3_client_custody vault flipped to 2of3_multi_hsm in SQL (`mpc_custody`, `mpc_providers`)
 *   reads with an integrity error (500 stored_share_corrupt / dek_commitment_mismatch), never a value and
 *   never a read without the client share; so does reordering `mpc_providers` or editing a share's
 *   `share_index`; lowering `mpc_threshold` relaxes nothing; undoing the edit makes the reads work again;
 * - shares swapped between two secrets (`secret_dek_shares.wrapped_share`) are refused in every mode;
 * - a corrupted stored share (one byte flipped) in multi-HSM: reads still succeed from the other two slots,
 *   `/v1/health/hsm` (user token) counts `corrupt_shares` for the slot, the server log names slot, vault,
 *   path and version (never bytes); two corrupted shares → 500 stored_share_corrupt naming a slot; in client
 *   modes a corrupted stored share is not blamed on the client;
 * - a share that passes its provider's check but is wrong (re-wrapped with the slot's key file under the right
 *   binding) is caught by the DEK commitment, the read still succeeds from the others, the slot is named; so is
 *   one of the wrong length or carrying another holder's x-coordinate (not a crash: 500 stored_share_corrupt
 *   when no other share is left);
 * - missing share rows: one missing in multi-HSM still reads; too few left is refused as stored data damage
 *   (500 stored_share_corrupt), not as a provider outage.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { seal } from "@shardvault/crypto";
import { keyBindingContext } from "../src/envelope/contexts.js";
import { api, assertNoLeak, assertProblem, provisionLocalKeys, secretValue, type Api, type ApiResponse } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import { assertValue, boundedGet, createVault, localKek, mode, MODES, putSecret, readKeyFiles, type ModeInfo } from "./support/mpc-support.js";

const INTEGRITY = new Set(["stored_share_corrupt", "dek_commitment_mismatch"]);

describe("mpc binding and stored-share integrity on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  let keysDir: string;
  const sensitive: string[] = [];
  /** Stored share bytes that must never appear in the output. */
  const storedBytes: Buffer[] = [];

  interface Written {
    vaultId: string;
    path: string;
    version: number;
    id: string;
    value: string;
    share?: string;
  }

  async function vaultWith(m: ModeInfo, label: string): Promise<string> {
    return (await createVault(admin, `${label} ${m.name}`, { custody_mode: m.name })).id;
  }

  async function write(m: ModeInfo, vaultId: string, path: string): Promise<Written> {
    const value = secretValue(`bind-${path}`);
    sensitive.push(value);
    const w = await putSecret(admin, vaultId, path, value, m);
    if (w.client_share) sensitive.push(w.client_share);
    return { vaultId, path, version: w.version, id: w.id, value, ...(w.client_share ? { share: w.client_share } : {}) };
  }

  /** Reads a version with its share (client modes), or with `null`: no share. Bounded: a hang fails the test. */
  const read = (w: Written, share: string | null = w.share ?? null) =>
    boundedGet(deployment.server.url, deployment.server.adminKey, `/v1/vaults/${w.vaultId}/secrets/${w.path}?version=${w.version}`, share ? { "X-Client-Share": share } : {});

  function assertNoValue(res: ApiResponse, context: string) {
    assert.notEqual(res.status, 200, `${context}: read succeeded: ${res.text}`);
    assert.ok(!(res.body && typeof res.body === "object" && "value" in res.body), `${context}: a value in the refusal`);
    for (const s of sensitive) assert.ok(!res.text.includes(s), `${context}: sensitive data in the answer`);
  }

  /** A refusal as an integrity failure: 500, stored_share_corrupt or dek_commitment_mismatch, no value. */
  function assertIntegrityRefusal(res: ApiResponse, context: string) {
    assertNoValue(res, context);
    assert.equal(res.status, 500, `${context}: expected an integrity error (500), got ${res.status} ${res.text}`);
    assert.ok(INTEGRITY.has(res.body.code), `${context}: code ${res.body.code}`);
    assert.match(String(res.headers.get("content-type")), /^application\/problem\+json/);
  }

  async function shareRows(versionId: string) {
    return (
      await sql.query<{ provider: string; share_index: number; kek_id: string; wrapped_share: Buffer }>(
        "SELECT provider, share_index, kek_id, wrapped_share FROM secret_dek_shares WHERE version_id = $1 ORDER BY share_index",
        [versionId],
      )
    ).rows;
  }

  const setShare = (versionId: string, provider: string, bytes: Buffer) =>
    sql.query("UPDATE secret_dek_shares SET wrapped_share = $3 WHERE version_id = $1 AND provider = $2", [versionId, provider, bytes]);

  const flipped = (bytes: Buffer, at = bytes.length >> 1) => {
    const copy = Buffer.from(bytes);
    copy[at]! ^= 0x01;
    return copy;
  };

  async function hsmDetail(): Promise<Map<string, any>> {
    const res = await admin.get("/v1/health/hsm");
    assert.equal(res.status, 200, res.text);
    assert.ok(Array.isArray(res.body.providers), res.text);
    return new Map(res.body.providers.map((p: any) => [p.slot, p]));
  }

  before(async () => {
    keysDir = provisionLocalKeys();
    deployment = await deploy("postgres", { env: { SHARDVAULT_KEYS_DIR: keysDir } });
    sensitive.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    sql = await connect(deployment.database!.url);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  test("a 2of3_client_custody vault flipped to 2of3_multi_hsm in SQL refuses reads as an integrity failure", async () => {
    const m = mode("2of3_client_custody");
    const vaultId = await vaultWith(m, "flip");
    const w = await write(m, vaultId, "flip/me");
    assertValue(await read(w), w.value, 1);
    for (const providers of [["gcp", "aws", "azure"], ["gcp", "aws", "client"]]) {
      await sql.query("UPDATE vaults SET mpc_custody = '2of3_multi_hsm', mpc_providers = $2 WHERE id = $1", [vaultId, providers]);
      const vault = (await admin.get(`/v1/vaults/${vaultId}`)).body;
      assert.equal(vault.mpc_custody, "2of3_multi_hsm");
      // Without the client share (what the flip is after) and with it.
      assertIntegrityRefusal(await read(w, null), `flipped to multi-HSM ${providers} without the share`);
      assertIntegrityRefusal(await read(w), `flipped to multi-HSM ${providers} with the share`);
      assertIntegrityRefusal(
        await boundedGet(deployment.server.url, deployment.server.adminKey, `/v1/vaults/${vaultId}/secrets/flip/me`),
        `flipped ${providers}, latest, no share`,
      );
    }
    // Undone: reads work again (the edit was what failed them).
    await sql.query("UPDATE vaults SET mpc_custody = '2of3_client_custody', mpc_providers = '{gcp,aws,client}' WHERE id = $1", [vaultId]);
    assertValue(await read(w), w.value, 1, "after undoing the flip");
  });

  test("other mode flips in SQL never yield a value", async () => {
    for (const [from, to, providers] of [
      ["2of3_multi_hsm", "2of3_client_custody", ["gcp", "aws", "client"]],
      ["2of2_client_custody", "2of3_client_custody", ["gcp", "client"]],
      ["2of3_client_custody", "2of2_client_custody", ["gcp", "client"]],
      ["2of3_client_required", "2of3_client_custody", ["gcp", "aws", "client"]],
      ["2of3_client_custody", "2of3_client_required", ["gcp", "aws", "client"]],
      ["2of3_client_required", "2of2_client_custody", ["gcp", "client"]],
      ["2of2_client_custody", "2of3_client_required", ["gcp", "aws", "client"]],
    ] as const) {
      const m = mode(from);
      const vaultId = await vaultWith(m, `flip ${to}`);
      const w = await write(m, vaultId, "flip/other");
      await sql.query("UPDATE vaults SET mpc_custody = $2, mpc_providers = $3 WHERE id = $1", [vaultId, to, providers]);
      assertNoValue(await read(w), `${from} → ${to} with the share`);
      assertNoValue(await read(w, null), `${from} → ${to} without a share`);
      await sql.query("UPDATE vaults SET mpc_custody = $2, mpc_providers = $3 WHERE id = $1", [vaultId, from, m.providers]);
      assertValue(await read(w), w.value, 1, `${from} restored`);
    }
  });

  test("reordering mpc_providers in SQL refuses reads as an integrity failure", async () => {
    for (const [m, reordered] of [
      [mode("2of3_client_custody"), ["aws", "gcp", "client"]],
      [mode("2of3_multi_hsm"), ["aws", "gcp", "azure"]],
      [mode("2of3_multi_hsm"), ["azure", "aws", "gcp"]],
    ] as const) {
      const vaultId = await vaultWith(m, `order ${reordered}`);
      const w = await write(m, vaultId, "order/me");
      await sql.query("UPDATE vaults SET mpc_providers = $2 WHERE id = $1", [vaultId, reordered]);
      assertIntegrityRefusal(await read(w), `${m.name} providers reordered to ${reordered}`);
      await sql.query("UPDATE vaults SET mpc_providers = $2 WHERE id = $1", [vaultId, m.providers]);
      assertValue(await read(w), w.value, 1, `${m.name} order restored`);
    }
  });

  test("editing a stored share's share_index refuses the read as an integrity failure", async () => {
    const m = mode("2of3_client_custody");
    const vaultId = await vaultWith(m, "share index");
    const w = await write(m, vaultId, "index/me");
    // gcp's share claims to be share 2 and aws's share 1.
    await sql.query("UPDATE secret_dek_shares SET share_index = 3 - share_index WHERE version_id = $1", [w.id]);
    assertIntegrityRefusal(await read(w), "share indexes swapped");
    await sql.query("UPDATE secret_dek_shares SET share_index = 3 - share_index WHERE version_id = $1", [w.id]);
    assertValue(await read(w), w.value, 1, "indexes restored");
  });

  test("lowering mpc_threshold in SQL relaxes nothing", async () => {
    const m = mode("2of3_client_custody");
    const vaultId = await vaultWith(m, "threshold");
    const w = await write(m, vaultId, "threshold/me");
    await sql.query("UPDATE vaults SET mpc_threshold = 1 WHERE id = $1", [vaultId]);
    assertProblem(await read(w, null), 400, "client_share_required");
    assertValue(await read(w), w.value, 1);
    await sql.query("UPDATE vaults SET mpc_threshold = 2 WHERE id = $1", [vaultId]);
  });

  test("shares swapped between two secrets are refused, in every mode", async () => {
    for (const m of MODES) {
      const vaultId = await vaultWith(m, "swap");
      const a = await write(m, vaultId, "swap/a");
      const b = await write(m, vaultId, "swap/b");
      const rowsA = await shareRows(a.id);
      const rowsB = await shareRows(b.id);
      for (const r of rowsA) storedBytes.push(r.wrapped_share);
      for (const slot of m.slots) {
        await setShare(a.id, slot, rowsB.find((r) => r.provider === slot)!.wrapped_share);
        await setShare(b.id, slot, rowsA.find((r) => r.provider === slot)!.wrapped_share);
      }
      for (const [w, label] of [[a, "a"], [b, "b"]] as const) {
        const res = await read(w);
        assertIntegrityRefusal(res, `${m.name}: shares of ${label} swapped`);
        assert.equal(res.body.code, "stored_share_corrupt", res.text);
        assert.match(res.body.detail, /\b(gcp|aws|azure)\b/);
      }
      // A version of the same path with another version's shares is refused too.
      const a2 = await write(m, vaultId, "swap/a");
      const rowsA2 = await shareRows(a2.id);
      for (const slot of m.slots) await setShare(a2.id, slot, rowsA.find((r) => r.provider === slot)!.wrapped_share);
      assertIntegrityRefusal(await read(a2), `${m.name}: version 2 with version 1's shares`);
      // Put back: all read again.
      for (const slot of m.slots) {
        await setShare(a.id, slot, rowsA.find((r) => r.provider === slot)!.wrapped_share);
        await setShare(b.id, slot, rowsB.find((r) => r.provider === slot)!.wrapped_share);
        await setShare(a2.id, slot, rowsA2.find((r) => r.provider === slot)!.wrapped_share);
      }
      for (const w of [a, b, a2]) assertValue(await read(w), w.value, w.version, `${m.name} restored`);
    }
  });

  test("multi-HSM: one corrupted stored share still reads, is counted in /v1/health/hsm and logged (slot, vault, path, version)", async () => {
    const m = mode("2of3_multi_hsm");
    const vaultId = await vaultWith(m, "corrupt");
    const w = await write(m, vaultId, "corrupt/one");
    const rows = await shareRows(w.id);
    const initial = await hsmDetail();
    for (const slot of m.slots) assert.equal(typeof initial.get(slot).corrupt_shares, "number");

    // Reads ask the two fastest slots first (recent latencies), so a corrupted share is met only when its slot
    // is asked: corrupt one slot's share at a time until a read has met one. Every read returns the value.
    let detected: string | undefined;
    for (const slot of m.slots) {
      const original = rows.find((r) => r.provider === slot)!.wrapped_share;
      storedBytes.push(original, flipped(original));
      await setShare(w.id, slot, flipped(original));
      for (let i = 0; i < 8 && !detected; i++) {
        assertValue(await read(w), w.value, 1, `read #${i} with ${slot}'s share corrupted`);
        if ((await hsmDetail()).get(slot).corrupt_shares > initial.get(slot).corrupt_shares) detected = slot;
      }
      await setShare(w.id, slot, original);
      if (detected) break;
    }
    assert.ok(detected, "no corrupted share was ever met (the two fastest slots are always asked)");
    const detail = await hsmDetail();
    assert.equal(detail.get(detected).corrupt_shares, initial.get(detected).corrupt_shares + 1, "counted once per read that met it");
    // Only that slot's count moved.
    for (const slot of m.slots.filter((s) => s !== detected)) assert.equal(detail.get(slot).corrupt_shares, initial.get(slot).corrupt_shares, slot);
    // Without a user token the endpoint tells only the overall status.
    const anonymous = await api(deployment.server.url).get("/v1/health/hsm");
    assert.equal(anonymous.status, 200);
    assert.ok(!("providers" in anonymous.body), anonymous.text);

    const log = deployment.server.output();
    const line = log.split("\n").find((l) => new RegExp(`\\b${detected}\\b`).test(l) && l.includes(vaultId) && l.includes("corrupt/one"));
    assert.ok(line, `no log line names slot, vault and path:\n${log}`);
    assert.match(line, /version 1\b/);
    assertValue(await read(w), w.value, 1, "restored");
  });

  test("multi-HSM: two corrupted stored shares are refused with 500 stored_share_corrupt naming a slot (and answered, not hung)", async () => {
    const m = mode("2of3_multi_hsm");
    const vaultId = await vaultWith(m, "corrupt two");
    const w = await write(m, vaultId, "corrupt/two");
    const rows = await shareRows(w.id);
    const failures: string[] = [];
    for (const pair of [["gcp", "aws"], ["aws", "azure"], ["gcp", "azure"]]) {
      for (const slot of pair) {
        const original = rows.find((r) => r.provider === slot)!.wrapped_share;
        storedBytes.push(original, flipped(original));
        await setShare(w.id, slot, flipped(original));
      }
      try {
        for (let i = 0; i < 2; i++) {
          const res = await read(w);
          assertNoValue(res, `${pair} corrupted`);
          assertProblem(res, 500, "stored_share_corrupt", new RegExp(`\\b(${pair.join("|")})\\b`), `${pair} corrupted, read #${i}`);
        }
      } catch (error) {
        // Every pair is tried; the failures are reported together.
        failures.push(`${pair.join("+")}: ${(error as Error).message.split("\n")[0]}`);
      }
      for (const r of rows) await setShare(w.id, r.provider, r.wrapped_share);
      assertValue(await read(w), w.value, 1, `${pair} restored`);
    }
    assert.deepEqual(failures, [], "pairs of corrupted shares not refused properly");
  });

  test("client modes: a corrupted stored share is refused as stored_share_corrupt (2-of-2) or read around (2-of-3, strict), never blamed on the client", async () => {
    const m2 = mode("2of2_client_custody");
    const v2 = await vaultWith(m2, "corrupt client");
    const w2 = await write(m2, v2, "corrupt/two");
    const [gcp2] = await shareRows(w2.id);
    await setShare(w2.id, "gcp", flipped(gcp2!.wrapped_share));
    const res = await read(w2);
    assertProblem(res, 500, "stored_share_corrupt", /\bgcp\b/);
    assertNoValue(res, "2of2 corrupted gcp share");
    await setShare(w2.id, "gcp", gcp2!.wrapped_share);
    assertValue(await read(w2), w2.value, 1);

    for (const m3 of [mode("2of3_client_custody"), mode("2of3_client_required")]) {
      const v3 = await vaultWith(m3, "corrupt client");
      const w3 = await write(m3, v3, "corrupt/three");
      const rows = await shareRows(w3.id);
      for (const bad of ["gcp", "aws"]) {
        const original = rows.find((r) => r.provider === bad)!.wrapped_share;
        await setShare(w3.id, bad, flipped(original));
        for (let i = 0; i < 4; i++) assertValue(await read(w3), w3.value, 1, `${m3.name}, ${bad} corrupted, read #${i}`);
        await setShare(w3.id, bad, original);
      }
      // Both server shares corrupted: the client's share alone is not enough, and it is not the client's fault.
      for (const r of rows) await setShare(w3.id, r.provider, flipped(r.wrapped_share));
      const both = await read(w3);
      assertProblem(both, 500, "stored_share_corrupt", /\b(gcp|aws)\b/);
      for (const r of rows) await setShare(w3.id, r.provider, r.wrapped_share);
      assertValue(await read(w3), w3.value, 1);
    }
  });

  test("multi-HSM: a share that unwraps but is wrong is caught by the commitment, read around, and named", async () => {
    const m = mode("2of3_multi_hsm");
    const vaultId = await vaultWith(m, "forged");
    const w = await write(m, vaultId, "forged/one");
    const rows = await shareRows(w.id);
    const keys = readKeyFiles(Object.fromEntries(["gcp", "aws", "azure"].map((s) => [s, join(keysDir, `${s}.key`)])));
    const protection = { custody: m.name, threshold: 2, providers: m.providers };
    const ref = { vaultId, path: w.path, version: w.version };
    // As above, a wrong share is met only when its slot is asked: forge one slot's share at a time until one is.
    let named: string | undefined;
    for (const [target, i] of [["gcp", 1], ["aws", 2], ["azure", 3]] as const) {
      const row = rows.find((r) => r.provider === target)!;
      // A random share at the right x, wrapped with the slot's own key under the right binding: the provider
      // accepts it; only the DEK commitment can tell it is wrong.
      const forged = seal(localKek(keys.get(target)!, row.kek_id), Uint8Array.from([...randomBytes(32), i]), keyBindingContext(ref, protection, { shareIndex: i, slot: target, kekId: row.kek_id }));
      const before = (await hsmDetail()).get(target).corrupt_shares;
      await setShare(w.id, target, forged);
      for (let n = 0; n < 8 && !named; n++) {
        assertValue(await read(w), w.value, 1, `${target} forged, read #${n}`);
        if ((await hsmDetail()).get(target).corrupt_shares > before) named = target;
      }
      await setShare(w.id, target, row.wrapped_share);
      if (named) break;
    }
    assert.ok(named, "the forged share was never named");
    assert.ok(deployment.server.output().split("\n").some((l) => l.includes(named!) && l.includes(vaultId) && l.includes("forged/one")));
    assertValue(await read(w), w.value, 1);
  });

  test("a share that unwraps with the wrong length or another holder's x is a corrupt share of its slot: read around, named, never a crash", async () => {
    const keys = readKeyFiles(Object.fromEntries(["gcp", "aws", "azure"].map((s) => [s, join(keysDir, `${s}.key`)])));
    /** `bytes` wrapped with the slot's own key under its right binding: the provider accepts it. */
    const forge = (m: ModeInfo, w: Written, row: { provider: string; share_index: number; kek_id: string }, bytes: Uint8Array) =>
      Buffer.from(
        seal(localKek(keys.get(row.provider)!, row.kek_id), bytes, keyBindingContext({ vaultId: w.vaultId, path: w.path, version: w.version }, { custody: m.name, threshold: 2, providers: m.providers }, { shareIndex: row.share_index, slot: row.provider, kekId: row.kek_id })),
      );
    const m = mode("2of3_multi_hsm");
    const vaultId = await vaultWith(m, "misshapen");
    const w = await write(m, vaultId, "misshapen/one");
    const rows = await shareRows(w.id);
    const shapes: Record<string, (x: number) => Uint8Array> = {
      "one byte short": (x) => Uint8Array.from([...randomBytes(31), x]),
      "one byte long": (x) => Uint8Array.from([...randomBytes(33), x]),
      "another holder's x": (x) => Uint8Array.from([...randomBytes(32), (x % 3) + 1]),
    };
    for (const [shape, make] of Object.entries(shapes)) {
      // A misshapen share is met only when its slot is asked: forge one slot's share at a time until one is.
      let named: string | undefined;
      for (const row of rows) {
        const before = (await hsmDetail()).get(row.provider).corrupt_shares;
        await setShare(w.id, row.provider, forge(m, w, row, make(row.share_index)));
        for (let n = 0; n < 8 && !named; n++) {
          assertValue(await read(w), w.value, 1, `${row.provider}'s share ${shape}, read #${n}`);
          if ((await hsmDetail()).get(row.provider).corrupt_shares > before) named = row.provider;
        }
        await setShare(w.id, row.provider, row.wrapped_share);
        if (named) break;
      }
      assert.ok(named, `a share ${shape} was never named`);
    }

    // 2-of-2: the server's one share misshapen is stored-data damage of its slot.
    const m2 = mode("2of2_client_custody");
    const w2 = await write(m2, await vaultWith(m2, "misshapen"), "misshapen/two");
    const [gcp2] = await shareRows(w2.id);
    await setShare(w2.id, "gcp", forge(m2, w2, gcp2!, randomBytes(33)));
    const res = await read(w2);
    assertNoValue(res, "2of2 gcp share one byte long");
    assertProblem(res, 500, "stored_share_corrupt", /\bgcp\b/);
    await setShare(w2.id, "gcp", gcp2!.wrapped_share);
    assertValue(await read(w2), w2.value, 1);

    // 2-of-3 client custody: a server share carrying the client's x is read around with the other slot.
    const m3 = mode("2of3_client_custody");
    const w3 = await write(m3, await vaultWith(m3, "misshapen"), "misshapen/three");
    for (const row of await shareRows(w3.id)) {
      await setShare(w3.id, row.provider, forge(m3, w3, row, Uint8Array.from([...randomBytes(32), m3.clientIndex!])));
      for (let n = 0; n < 3; n++) assertValue(await read(w3), w3.value, 1, `2of3 client, ${row.provider}'s share with the client's x, read #${n}`);
      await setShare(w3.id, row.provider, row.wrapped_share);
    }
  });

  test("missing share rows: one missing still reads (multi-HSM); too few left is stored-data damage, not an outage", async () => {
    const m = mode("2of3_multi_hsm");
    const vaultId = await vaultWith(m, "missing");
    const w = await write(m, vaultId, "missing/one");
    const rows = await shareRows(w.id);
    const restore = async () => {
      for (const r of rows) {
        await sql.query(
          `INSERT INTO secret_dek_shares (version_id, vault_id, provider, share_index, kek_id, wrapped_share) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (version_id, provider) DO NOTHING`,
          [w.id, vaultId, r.provider, r.share_index, r.kek_id, r.wrapped_share],
        );
      }
    };
    for (const slot of ["gcp", "aws", "azure"]) {
      await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1 AND provider = $2", [w.id, slot]);
      for (let i = 0; i < 3; i++) assertValue(await read(w), w.value, 1, `${slot}'s share row missing`);
      await restore();
    }
    // Only one share row left: the data is damaged, no provider is down.
    await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1 AND provider <> 'azure'", [w.id]);
    const one = await read(w);
    assertNoValue(one, "one share row left");
    assertProblem(one, 500, "stored_share_corrupt", undefined, "one share row left");
    assert.equal(one.headers.get("retry-after"), null, "stored-data damage answered with Retry-After");
    // No share row at all.
    await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1", [w.id]);
    const none = await read(w);
    assertNoValue(none, "no share row");
    assertProblem(none, 500, "stored_share_corrupt", undefined, "no share row");
    await restore();
    assertValue(await read(w), w.value, 1, "rows restored");

    // 2-of-3 client custody with one server share row gone: aws + client still read; both gone refused.
    const m3 = mode("2of3_client_custody");
    const v3 = await vaultWith(m3, "missing client");
    const w3 = await write(m3, v3, "missing/three");
    await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1 AND provider = 'gcp'", [w3.id]);
    assertValue(await read(w3), w3.value, 1, "2of3 client without gcp's row");
    await sql.query("DELETE FROM secret_dek_shares WHERE version_id = $1", [w3.id]);
    const gone = await read(w3);
    assertNoValue(gone, "2of3 client without share rows");
    assertProblem(gone, 500, "stored_share_corrupt", undefined, "2of3 client without share rows");
  });

  test("the server output holds no value, share, key or stored share bytes", async () => {
    await deployment.server.stop();
    const output = deployment.server.output();
    assertNoLeak(output, sensitive);
    for (const bytes of storedBytes) {
      for (const form of [bytes.toString("hex"), bytes.toString("base64").replace(/=+$/, ""), bytes.toString("base64url")]) {
        assert.ok(!output.includes(form), "stored share bytes in the output");
      }
    }
  });
});
