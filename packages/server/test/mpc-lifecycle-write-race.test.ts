/**
 * The race between a write and the start of a lifecycle job, made deterministic in-process (services composed
 * as the server composes them, real local providers, on PGlite and PostgreSQL): the aws slot's provider is
 * wrapped so that one wrap waits at a gate. A write seals its version under the vault's layout and waits there,
 * holding aws's share wrapped under the old KEK; a KEK rotation starts and switches the vault to new KEKs; the
 * gate opens. The write must not commit what it sealed (the job has already fixed the versions it moves, and
 * will disable the old KEKs): it seals again under the new layout and commits that. Once the rotation
 * completes, with the old KEKs disabled, the version reads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { custodyMode } from "../src/envelope/custody-modes.js";
import type { KeyProvider } from "../src/providers/provider.js";
import { DATABASE_KINDS } from "./support/harness.js";
import { composeInProcess } from "./support/in-process.js";
import { skipReasonFor } from "./support/postgres.js";

/** Holds the first wrap at `slot` once armed, until the gate opens. */
function gatedWrap(slot: string) {
  let armed = false;
  let reached!: () => void;
  const atGate = new Promise<void>((resolve) => (reached = resolve));
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const wrap = (provider: KeyProvider): KeyProvider =>
    provider.slot !== slot
      ? provider
      : {
          ...provider,
          async wrap(kekId, plaintext, aad, opts) {
            if (armed) {
              armed = false;
              reached();
              await gate;
            }
            return provider.wrap(kekId, plaintext, aad, opts);
          },
        };
  return { wrap, arm: () => void (armed = true), atGate, open };
}

for (const kind of DATABASE_KINDS) {
  test(`${kind}: a write sealed under the old KEKs while a rotation starts is sealed again under the new ones`, { skip: await skipReasonFor(kind) }, async () => {
    const gate = gatedWrap("aws");
    const app = await composeInProcess(kind, { wrapProvider: gate.wrap });
    const { db, vaults, secrets, lifecycle, principal: admin } = app;
    try {
      const vault = await vaults.create(admin, { name: "race" }, { mode: custodyMode("2of3_multi_hsm"), holders: ["gcp", "aws", "azure"] });
      const keks = async () =>
        Object.fromEntries((await db.query<{ provider: string; kek_id: string }>("SELECT provider, kek_id FROM vault_mpc_keks WHERE vault_id = $1", [vault.id])).map((r) => [r.provider, r.kek_id]));
      const oldKeks = await keks();

      gate.arm();
      const writing = secrets.write(admin, vault.id, "raced", { value: Buffer.from("written across the switch") });
      await gate.atGate; // sealed under the old layout, not committed
      const job = await lifecycle.start(admin, vault.id, { kind: "rotate" });
      assert.equal(job.total, 0, "the write had not committed when the rotation fixed its versions");
      const newKeks = await keks();
      assert.notEqual(newKeks.aws, oldKeks.aws);
      gate.open();
      const written = await writing;

      const [row] = await db.query<{ id: string; mpc_generation: number }>("SELECT id, mpc_generation FROM secret_versions WHERE vault_id = $1", [vault.id]);
      assert.equal(row!.mpc_generation, 2, "the write committed under the old layout");
      const shares = await db.query<{ provider: string; kek_id: string }>("SELECT provider, kek_id FROM secret_dek_shares WHERE version_id = $1", [row!.id]);
      assert.deepEqual(Object.fromEntries(shares.map((s) => [s.provider, s.kek_id])), newKeks);

      for (let i = 0; i < 1000 && (await lifecycle.job(admin, vault.id, job.id)).status !== "completed"; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await lifecycle.job(admin, vault.id, job.id)).status, "completed");
      const read = await secrets.read(admin, vault.id, "raced", {});
      assert.equal(read.value.toString(), "written across the switch");
      assert.equal(read.version, written.version);
    } finally {
      await app.close();
    }
  });
}
