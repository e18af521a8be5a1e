/**
 * The dashboard's custody texts (src/custody.ts), which the shown-once modal and the reminders beside a
 * vault's secrets show: worded per mode from the mode's facts, and those facts agree with the server's mode
 * table (its access structure; `PROVIDER_QUORUM_MODES`, which the CLI's wording reads too). Losing the client share makes a 2-of-2 or strict client custody version
 * undecryptable by anyone; in 2-of-3 client custody the two provider slots together still hold two of the
 * three shares.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CUSTODY_MODES as SERVER_MODES, CLIENT, slotShareReplicated } from "../../server/src/envelope/custody-modes.js";
import { clientShareReminder, clientShareWarning, CUSTODY_MODES, providersTogetherDecrypt } from "../src/custody.js";

const texts = (vault: { mpc_custody: string; mpc_providers?: string[] }) => {
  const reminder = clientShareReminder(vault);
  assert.ok(reminder, `no reminder for ${vault.mpc_custody}`);
  return [reminder, clientShareWarning(vault)];
};

describe("dashboard custody texts", () => {
  it("2-of-2 and strict client custody: without the share nobody can decrypt the version", () => {
    const vaults = [
      { mpc_custody: "2of2_client_custody" },
      { mpc_custody: "2of2_client_custody", mpc_providers: ["hsm", "client"] },
      { mpc_custody: "2of3_client_required" },
      { mpc_custody: "2of3_client_required", mpc_providers: ["aws", "azure", "client"] },
    ];
    for (const vault of vaults) {
      for (const text of texts(vault)) assert.match(text, /cannot be decrypted by anyone/, JSON.stringify(vault));
    }
  });

  it("2-of-3 client custody: no claim that nobody can; the two provider slots are named as holding two of three shares", () => {
    const cases: Array<[{ mpc_custody: string; mpc_providers?: string[] }, RegExp]> = [
      [{ mpc_custody: "2of3_client_custody" }, /the gcp and aws key providers together hold 2 of the 3 shares/],
      [{ mpc_custody: "2of3_client_custody", mpc_providers: ["aws", "azure", "client"] }, /the aws and azure key providers together hold 2 of the 3 shares/],
    ];
    for (const [vault, named] of cases) {
      for (const text of texts(vault)) {
        assert.doesNotMatch(text, /by anyone|cannot be decrypted/, text);
        assert.match(text, /Shardvault will not decrypt/, text);
        assert.match(text, named, text);
      }
    }
  });

  it("modes without a client share have no reminder", () => {
    assert.equal(clientShareReminder({ mpc_custody: "2of3_multi_hsm" }), undefined);
    assert.equal(clientShareReminder({ mpc_custody: null }), undefined);
    assert.equal(clientShareReminder({}), undefined);
  });

  it("every mode's facts agree with the server's mode table, so the wording follows its access structure", () => {
    assert.deepEqual(CUSTODY_MODES.map((m) => m.name).sort(), Object.keys(SERVER_MODES).sort());
    for (const mode of CUSTODY_MODES) {
      const server = SERVER_MODES[mode.name];
      assert.equal(mode.clientShareRequired, server.clientHoldsShare, mode.name);
      assert.deepEqual(mode.defaultProviders, server.clientHoldsShare ? [...server.defaultProviders, CLIENT] : [...server.defaultProviders], mode.name);
      // The texts say the providers alone could rebuild exactly when the server's access structure says so.
      assert.equal(providersTogetherDecrypt(mode), server.decrypts({ client: false, servers: server.serverShares }), mode.name);
      assert.equal(mode.serverMovesLostShare, !server.clientHoldsShare || slotShareReplicated({ name: mode.name, ...server }), mode.name);
    }
  });
});
