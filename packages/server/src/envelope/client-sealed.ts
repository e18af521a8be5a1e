/**
 * A version sealed by the client (client-side reconstruction's write): the server checks what it can without
 * the DEK — the format, the sizes, that the shares are one per server holder at its own x — and turns the server
 * shares into the parts its slots wrap. It cannot check that the value opens or that the commitment is the
 * DEK's: only the client, who holds the rest, can, and it is the client's own value it would spoil.
 */
import { COMMITMENT_LENGTH, DEK_LENGTH, ENVELOPE_FORMAT, fromBase64, SEALED_OVERHEAD, SEALED_VERSION, wipe } from "@shardvault/crypto";
import type { SealedWrite } from "@shardvault/api";
import { badRequest, conflict, tooLarge } from "../errors.js";
import { CLIENT } from "./custody-modes.js";
import type { MpcVault } from "./mpc.js";

export interface AcceptedSealed {
  ciphertext: Uint8Array;
  commitment: Uint8Array;
  /** Each server holder's part, in holder order, as `wrapParts` takes them. The caller wipes them. */
  parts: Uint8Array[];
}

const invalid = (detail: string) => badRequest("sealed_invalid", `the sealed version is invalid: ${detail}`);

export function acceptClientSealed(vault: MpcVault, sealed: SealedWrite, maxValueBytes: number): AcceptedSealed {
  if (sealed.format !== ENVELOPE_FORMAT) throw invalid(`format ${sealed.format} is not ${ENVELOPE_FORMAT}`);
  // The holders are bound into the commitment the client made: a vault moved to other slots since cannot store it.
  if (JSON.stringify(sealed.providers) !== JSON.stringify(vault.holders)) {
    throw conflict("layout_changed", "the vault's share holders changed since this version was sealed: get a new seal target and seal again");
  }
  const ciphertext = fromBase64(sealed.value);
  if (!ciphertext || ciphertext.length < SEALED_OVERHEAD || ciphertext[0] !== SEALED_VERSION) throw invalid("value is not a sealed value in base64");
  if (ciphertext.length - SEALED_OVERHEAD > maxValueBytes) throw tooLarge("value_too_large", `the value is larger than ${maxValueBytes} bytes`);
  const commitment = fromBase64(sealed.commitment);
  if (!commitment || commitment.length !== COMMITMENT_LENGTH) throw invalid(`commitment must be ${COMMITMENT_LENGTH} bytes in base64`);
  const servers = vault.holders.filter((holder) => holder !== CLIENT);
  // XOR: the one server part, which every server slot holds; Shamir: one share per server slot, at its x.
  const expected = vault.mode.scheme === "xor" ? [1] : servers.map((_, i) => i + 1);
  if (sealed.server_shares.length !== expected.length || sealed.server_shares.some((s, i) => s.index !== expected[i])) {
    throw invalid(`server_shares must be ${expected.length} share(s) at index ${expected.join(", ")}`);
  }
  const ys = sealed.server_shares.map((s) => fromBase64(s.share));
  if (ys.some((y) => !y || y.length !== DEK_LENGTH)) {
    wipe(...ys);
    throw invalid(`each server share must be ${DEK_LENGTH} bytes in base64`);
  }
  const parts = servers.map((_, i) => {
    if (vault.mode.scheme === "xor") return Uint8Array.from(ys[0]!);
    const part = new Uint8Array(DEK_LENGTH + 1);
    part.set(ys[i]!);
    part[DEK_LENGTH] = i + 1;
    return part;
  });
  wipe(...ys);
  return { ciphertext, commitment, parts };
}
