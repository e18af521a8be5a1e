/**
 * The security model of MPC secret storage, checked offline against real stored data (PostgreSQL, local
 * provider slots with key files in a SHARDVAULT_KEYS_DIR of the test's own).
 *
 * The parties: the database (and its backups), the running server, each provider slot (gcp, aws, azure) and
 * the client. An attacker always holds the database rows; for every set of further parties, the test's own
 * offline attacker (support/mpc-support.ts `attack`) derives the KEKs of the slots it holds as the local
 * provider does, unwraps what those slots wrapped under the binding of envelope/contexts.ts, adds the client
 * share if it holds it, combines (XOR / Shamir), and counts a DEK only when it verifies against the stored
 * commitment and opens the value. The running server can ask every configured slot to unwrap, so it counts as
 * holding all three slots.
 *
 * Expected, and asserted for every subset of {gcp, aws, azure, client}: a set of parties reconstructs a DEK
 * exactly when it holds two of the mode's shares, and in strict client custody exactly when it holds the
 * client's share and at least one server slot's copy of the server part. In particular:
 *   2of2_client_custody   DB+gcp no, DB+client no, DB+gcp+client yes;
 *   2of3_multi_hsm        any single slot no, any two slots yes;
 *   2of3_client_custody   DB+gcp no, DB+aws no, DB+client no, DB+gcp+client yes, DB+aws+client yes,
 *                         and DB+gcp+aws YES: the seed's threat table says "Two cloud providers compromised:
 *                         Protected (client share needed)" for this mode, but gcp and aws hold two of the
 *                         three shares. So does the running server (it can call both).
 *   2of3_client_required  DB+gcp no, DB+aws no, DB+client no, DB+gcp+client yes, DB+aws+client yes, and
 *                         DB+gcp+aws NO: the seed's "Protected" row, delivered (gcp and aws each hold the same
 *                         server part, nothing without the client's). Nor does the running server without
 *                         the client's share.
 * Versions written after enabling and versions re-protected by enabling are both checked, so anything the
 * plain protection left behind (a wrapped DEK under the vault's old KEK) would show up as a reconstruction.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { api, assertNoLeak, assertProblem, DEV_SLOTS, provisionLocalKeys, secretValue, type Api } from "./support/harness.js";
import { connect, deploy, postgresSkipReason, type Deployment } from "./support/postgres.js";
import {
  attack,
  createVault,
  enableMpc,
  MODES,
  putSecret,
  readKeyFiles,
  snapshotDatabase,
  subsetsOf,
  type DbSnapshot,
  type ModeInfo,
  type ModeName,
} from "./support/mpc-support.js";

type Party = "gcp" | "aws" | "azure" | "client";
const PARTIES: readonly Party[] = ["gcp", "aws", "azure", "client"];

/** The brief's and the seed's cases, by mode: parties besides the database → reconstructs? */
const NAMED: Record<ModeName, Array<[Party[], boolean]>> = {
  "2of2_client_custody": [
    [[], false],
    [["gcp"], false],
    [["client"], false],
    [["gcp", "client"], true],
    [["aws", "azure"], false],
    [["aws", "azure", "client"], false],
    [["gcp", "aws", "azure"], false], // the running server
  ],
  "2of3_multi_hsm": [
    [[], false],
    [["gcp"], false],
    [["aws"], false],
    [["azure"], false],
    [["client"], false],
    [["gcp", "aws"], true],
    [["gcp", "azure"], true],
    [["aws", "azure"], true],
    [["gcp", "aws", "azure"], true], // the running server
  ],
  "2of3_client_custody": [
    [[], false],
    [["gcp"], false],
    [["aws"], false],
    [["azure"], false],
    [["client"], false],
    [["azure", "client"], false],
    [["gcp", "client"], true],
    [["aws", "client"], true],
    // Not what the seed's threat table says; the truth: two of the three shares.
    [["gcp", "aws"], true],
    [["gcp", "aws", "azure"], true], // the running server
  ],
  "2of3_client_required": [
    [[], false],
    [["gcp"], false],
    [["aws"], false],
    [["azure"], false],
    [["client"], false],
    [["azure", "client"], false],
    [["gcp", "client"], true],
    [["aws", "client"], true],
    [["gcp", "aws", "client"], true],
    // The seed's threat table: "two cloud providers compromised: protected (client share needed)".
    [["gcp", "aws"], false],
    [["gcp", "aws", "azure"], false], // the running server, without the client's share
  ],
};

/**
 * The access structure each mode promises, stated apart from the server's mode table: given how many of the
 * mode's server slots the parties hold and whether they hold the client's share, do they reconstruct?
 */
const twoShares = (slots: number, client: boolean) => slots + (client ? 1 : 0) >= 2;
const ACCESS: Record<ModeName, (slots: number, client: boolean) => boolean> = {
  "2of2_client_custody": twoShares,
  "2of3_multi_hsm": twoShares,
  "2of3_client_custody": twoShares,
  // The client's part and one slot's copy of the server part; the slots' copies together are one part.
  "2of3_client_required": (slots, client) => client && slots >= 1,
};

const reconstructs = (m: ModeInfo, parties: readonly Party[]) =>
  ACCESS[m.name](parties.filter((p) => m.slots.includes(p)).length, m.clientHoldsShare && parties.includes("client"));

describe("mpc security model on postgres", { skip: await postgresSkipReason() }, () => {
  let deployment: Deployment;
  let admin: Api;
  let sql: pg.Client;
  let keysDir: string;
  const sensitive: string[] = [];

  interface Target {
    m: ModeInfo;
    vaultId: string;
    path: string;
    version: number;
    value: string;
    share?: string;
    how: "re-protected" | "written under MPC";
  }
  const targets: Target[] = [];
  let snap: DbSnapshot;

  before(async () => {
    keysDir = provisionLocalKeys();
    deployment = await deploy("postgres", { env: { SHARDVAULT_KEYS_DIR: keysDir } });
    sensitive.push(deployment.server.adminKey);
    admin = api(deployment.server.url, deployment.server.adminKey);
    sql = await connect(deployment.database!.url);

    for (const m of MODES) {
      // Secrets written while the vault was plain, then re-protected by enabling; then more written under MPC.
      const vault = await createVault(admin, `model ${m.name}`);
      const early = secretValue(`early-${m.name}`);
      sensitive.push(early);
      const w = await putSecret(admin, vault.id, "model/early", early);
      const enabled = await enableMpc(admin, vault.id, { custody_mode: m.name });
      const reshare = enabled.client_shares?.find((c: any) => c.path === "model/early" && c.version === w.version)?.client_share;
      if (m.clientHoldsShare) assert.ok(reshare, JSON.stringify(enabled));
      if (reshare) sensitive.push(reshare);
      targets.push({ m, vaultId: vault.id, path: "model/early", version: w.version, value: early, share: reshare, how: "re-protected" });
      for (let i = 0; i < 2; i++) {
        const late = secretValue(`late-${m.name}`);
        sensitive.push(late);
        const l = await putSecret(admin, vault.id, "model/late", late, m);
        if (l.client_share) sensitive.push(l.client_share);
        targets.push({ m, vaultId: vault.id, path: "model/late", version: l.version, value: late, share: l.client_share, how: "written under MPC" });
      }
    }
    // The attacker's copy of the database (a backup would hold the same rows).
    snap = await snapshotDatabase(sql);
  });

  after(async () => {
    await sql?.end();
    await deployment?.dispose();
  });

  const keyFiles = () => Object.fromEntries(DEV_SLOTS.map((slot) => [slot, join(keysDir, `${slot}.key`)]));

  function tryWith(t: Target, parties: readonly Party[], clientShare = t.share) {
    const all = readKeyFiles(keyFiles());
    const keys = new Map([...all].filter(([slot]) => parties.includes(slot as Party)));
    return attack(snap, { vaultId: t.vaultId, path: t.path, version: t.version }, { keys, ...(parties.includes("client") && clientShare ? { clientShare } : {}) });
  }

  test("the stored rows hold no wrapped DEK for MPC versions, and one wrapped share per server slot", () => {
    for (const t of targets) {
      const row = snap.versions.find((v) => v.vault_id === t.vaultId && v.path === t.path && v.version === t.version)!;
      assert.equal(row.wrapped_dek, null, `${t.m.name} ${t.how}`);
      const shares = snap.shares.filter((s) => s.version_id === row.id).sort((a, b) => a.share_index - b.share_index);
      assert.deepEqual(shares.map((s) => `${s.provider}:${s.share_index}`), t.m.slots.map((slot, i) => `${slot}:${i + 1}`));
    }
  });

  for (const m of MODES) {
    test(`${m.name}: exactly the sets of parties the mode's access structure names reconstruct a DEK`, () => {
      const mine = targets.filter((t) => t.m.name === m.name);
      assert.equal(mine.length, 3);
      for (const t of mine) {
        for (const parties of subsetsOf(PARTIES)) {
          const expected = reconstructs(m, parties);
          const result = tryWith(t, parties);
          const label = `${m.name} (${t.how} v${t.version}): DB+${parties.join("+") || "nothing"}`;
          assert.equal(result.value !== undefined, expected, `${label}: expected ${expected ? "a reconstruction" : "none"}, got ${result.how ?? "none"}`);
          if (result.value) assert.equal(result.value.toString("utf8"), t.value, label);
          // The shares the attacker could unwrap are exactly those of the slots it holds.
          assert.deepEqual(
            result.unwrapped.filter((h) => h !== "client").sort(),
            parties.filter((p) => p !== "client" && m.slots.includes(p)).sort(),
            `${label}: unwrapped ${result.unwrapped.join(",")}`,
          );
        }
      }
    });

    test(`${m.name}: the seed's and the brief's named cases`, () => {
      for (const t of targets.filter((x) => x.m.name === m.name)) {
        for (const [parties, expected] of NAMED[m.name]!) {
          const result = tryWith(t, parties);
          assert.equal(result.value !== undefined, expected, `${m.name} ${t.how}: DB+${parties.join("+") || "nothing"} should ${expected ? "" : "not "}reconstruct`);
        }
      }
    });
  }

  test("a client share of another version does not help, whatever else is held", () => {
    for (const m of MODES.filter((x) => x.clientHoldsShare)) {
      const [a, b] = targets.filter((t) => t.m.name === m.name && t.path === "model/late");
      for (const parties of [["client"], ["gcp", "client"], ["aws", "client"], ["azure", "client"]] as Party[][]) {
        const result = tryWith(a!, parties, b!.share);
        assert.equal(result.value, undefined, `${m.name}: DB+${parties.join("+")} with another version's share`);
      }
    }
  });

  test("the server still reads every target (the attacker's view matches the live data), and leaks nothing", async () => {
    for (const t of targets) {
      const res = await admin.get(`/v1/vaults/${t.vaultId}/secrets/${t.path}?version=${t.version}`, { headers: t.share ? { "X-Client-Share": t.share } : {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.value, t.value);
      // The running server holds every slot, yet without the client's share it does not decrypt.
      if (t.share) assertProblem(await admin.get(`/v1/vaults/${t.vaultId}/secrets/${t.path}?version=${t.version}`), 400, "client_share_required");
    }
    await deployment.server.stop();
    assertNoLeak(deployment.server.output(), sensitive);
  });
});
