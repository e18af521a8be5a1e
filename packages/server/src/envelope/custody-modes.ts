/**
 * The custody modes: one row per mode, read by everything that behaves differently per mode (splitting and
 * recovering DEKs, client-share checks, enabling MPC, CMEK rotation, the API's vocabulary). A new mode is one
 * row here (and its name in `@shardvault/api`): a missing or extra row fails to compile.
 *
 * Share holders are listed in share order: the server slots first, the client (`client`) last; each holder's
 * share index (the Shamir x-coordinate, or the XOR holder's number) is its position + 1. "GCP KMS (primary)":
 * `gcp` is share 1 by default.
 *
 * The two schemes:
 * - `shamir`: one Shamir share per holder, any `threshold` of them rebuild the DEK;
 * - `xor`: DEK = server part ⊕ client part. Every server slot holds (wrapped under its own KEK) a copy of the
 *   same server part, so the client's part is always needed and any one server slot completes it: with two
 *   server slots, losing one provider loses nothing, and the two providers together hold only the server part.
 */
import { MPC_CUSTODY_VALUES, type CustodyModeName } from "@shardvault/api";
import { badRequest } from "../errors.js";

export const CLIENT = "client";

/** Which parties hold shares at a reconstruction: the client's share or not, and how many server slots'. */
export interface Parties {
  client: boolean;
  servers: number;
}

export interface CustodyMode {
  name: CustodyModeName;
  scheme: "xor" | "shamir";
  /** How many shares a reconstruction combines (the API's `mpc_threshold`). */
  threshold: number;
  /** How many shares the server's provider slots hold. */
  serverShares: number;
  clientHoldsShare: boolean;
  defaultProviders: readonly string[];
  /**
   * The access structure: whether these parties together may rebuild a DEK. Server slots are interchangeable
   * within a mode, so a count says it all. Pure: the security-model tests check it for every party subset.
   */
  decrypts(parties: Parties): boolean;
}

/** Any `threshold` shares of a Shamir split. */
const anyOf =
  (threshold: number) =>
  ({ client, servers }: Parties): boolean =>
    servers + (client ? 1 : 0) >= threshold;

/** The client's part and any one server slot's copy of the server part (XOR). */
const clientAndAnyServer = ({ client, servers }: Parties): boolean => client && servers >= 1;

/** The behaviour of each custody mode the API names. */
export const CUSTODY_MODES: Record<CustodyModeName, Omit<CustodyMode, "name">> = {
  "2of2_client_custody": { scheme: "xor", threshold: 2, serverShares: 1, clientHoldsShare: true, defaultProviders: ["gcp"], decrypts: clientAndAnyServer },
  "2of3_multi_hsm": { scheme: "shamir", threshold: 2, serverShares: 3, clientHoldsShare: false, defaultProviders: ["gcp", "aws", "azure"], decrypts: anyOf(2) },
  "2of3_client_custody": { scheme: "shamir", threshold: 2, serverShares: 2, clientHoldsShare: true, defaultProviders: ["gcp", "aws"], decrypts: anyOf(2) },
  "2of3_client_required": { scheme: "xor", threshold: 2, serverShares: 2, clientHoldsShare: true, defaultProviders: ["gcp", "aws"], decrypts: clientAndAnyServer },
};

/** The names of the modes that give the client a share (for queries that count client-custody data). */
export const CLIENT_CUSTODY_MODE_NAMES = (Object.keys(CUSTODY_MODES) as CustodyModeName[]).filter((name) => CUSTODY_MODES[name].clientHoldsShare);

/**
 * Whether a server slot's share is also held by the mode's other server slots (XOR: each holds the server
 * part), so a lost slot's share can be wrapped again at its replacement from a slot that still answers.
 */
export const slotShareReplicated = (mode: CustodyMode): boolean => mode.scheme === "xor" && mode.serverShares > 1;

/** The fewest server shares that, with or without the client's share, rebuild a DEK; undefined when none do. */
export function serverSharesNeeded(mode: CustodyMode, client: boolean): number | undefined {
  for (let servers = 0; servers <= mode.serverShares; servers++) if (mode.decrypts({ client, servers })) return servers;
  return undefined;
}

/**
 * The provider slots among `holders` whose wraps can be forged with a public key (RSA-OAEP), when together they
 * could rebuild a DEK without the client: someone able to write the database could then choose the DEK and
 * have the server serve their value. Undefined when every quorum holds an authenticated share.
 */
export function forgeableQuorum(mode: CustodyMode, holders: readonly string[], forgeable: (slot: string) => boolean): string[] | undefined {
  const slots = holders.filter((h) => h !== CLIENT && forgeable(h));
  return mode.decrypts({ client: false, servers: slots.length }) ? slots : undefined;
}

/** 1claw's typed SDK sends `mpc_custody: "2-of-2" | "2-of-3"`. */
const ALIASES: Partial<Record<string, CustodyModeName>> = { "2-of-2": "2of2_client_custody", "2-of-3": "2of3_multi_hsm" };

export function custodyMode(name: string): CustodyMode {
  const mode = CUSTODY_MODES[name as CustodyModeName];
  if (!mode) throw badRequest("validation_error", `unknown custody mode ${name}`);
  return { name: name as CustodyModeName, ...mode };
}

/** Whether a vault (its `mpc_custody`) gives the client a share that every use of a value needs. */
export const clientCustody = (mpcCustody: string | null): boolean => mpcCustody !== null && custodyMode(mpcCustody).clientHoldsShare;

/** Reads the mode from either body shape; both present and different is a conflict. */
export function requestedMode(body: { custody_mode?: string; mpc_custody?: string }): CustodyMode | undefined {
  const fromSeed = body.custody_mode;
  const fromSdk = body.mpc_custody === undefined ? undefined : (ALIASES[body.mpc_custody] ?? body.mpc_custody);
  if (fromSeed !== undefined && fromSdk !== undefined && fromSeed !== fromSdk) {
    throw badRequest("conflicting_fields", `custody_mode ${fromSeed} and mpc_custody ${body.mpc_custody} name different modes`);
  }
  const name = fromSeed ?? fromSdk;
  if (name === undefined) return undefined;
  if (!(name in CUSTODY_MODES)) {
    throw badRequest("validation_error", `custody mode must be one of ${MPC_CUSTODY_VALUES.join(", ")}`);
  }
  return custodyMode(name);
}

/**
 * The share holders for a mode: the defaults, or the slots the caller named (distinct, as many as the mode
 * has server shares; a trailing `client` is accepted and ignored so `mpc_providers` can be sent back).
 */
export function shareHolders(mode: CustodyMode, requested: readonly string[] | undefined, isConfigured: (slot: string) => boolean): string[] {
  let slots = [...(requested ?? mode.defaultProviders)];
  if (requested && mode.clientHoldsShare && slots[slots.length - 1] === CLIENT) slots = slots.slice(0, -1);
  if (slots.includes(CLIENT)) throw badRequest("validation_error", `"client" may only end the providers list of a client-custody mode`);
  if (new Set(slots).size !== slots.length) throw badRequest("validation_error", "providers must be distinct");
  if (slots.length !== mode.serverShares) {
    throw badRequest("validation_error", `${mode.name} needs exactly ${mode.serverShares} provider slot(s), got ${slots.length}`);
  }
  const missing = slots.find((slot) => !isConfigured(slot));
  if (missing) throw badRequest("provider_not_configured", `provider slot ${missing} is not configured on this deployment`);
  return mode.clientHoldsShare ? [...slots, CLIENT] : slots;
}
