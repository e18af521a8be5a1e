/**
 * The MPC custody modes: the seed document's three, as its "Choosing a custody mode" table describes them, and
 * strict client custody (`2of3_client_required`), with each mode's default share holders (the server's
 * `envelope/custody-modes.ts`). The trust lines follow the README's corrected model: in 2-of-3 client custody,
 * GCP and AWS together hold two of the three shares; in strict client custody they cannot decrypt together.
 */
import type { CUSTODY_MODE_NAMES } from "@shardvault/api";
import { PROVIDER_QUORUM_MODES, type CustodyModeName } from "@shardvault/sdk";

export interface CustodyMode {
  name: CustodyModeName;
  label: string;
  /**
   * One line on its trust model. `{0}`, `{1}`… stand for the mode's share holders in order (the vault's own, or
   * the defaults), filled by `trustLine` with what each slot really is on this server.
   */
  trust: string;
  clientShareRequired: boolean;
  /**
   * Whether replacing a lost provider moves its shares without the clients (multi-HSM re-splits from the other
   * slots; strict client custody copies the server part from the other slot); otherwise each secret is moved
   * with its client share.
   */
  serverMovesLostShare: boolean;
  /** Share holders in share order; "client" is the caller. */
  defaultProviders: string[];
  split: string;
  overhead: string;
  bestFor: string;
}

export const CUSTODY_MODES: readonly CustodyMode[] & { length: (typeof CUSTODY_MODE_NAMES)["length"] } = [
  {
    name: "2of2_client_custody",
    label: "2-of-2 Client Custody",
    trust: "Neither Shardvault nor {0} alone can decrypt: every read needs the server's {0} share and your client share.",
    clientShareRequired: true,
    serverMovesLostShare: false,
    defaultProviders: ["gcp", "client"],
    split: "XOR 2-of-2",
    overhead: "Medium — store 1 share per secret",
    bestFor: "Maximum human control",
  },
  {
    name: "2of3_multi_hsm",
    label: "2-of-3 Multi-HSM",
    trust: "Any single key provider compromise is insufficient: any 2 of {0}, {1} and {2} decrypt, fully server-side, no client share.",
    clientShareRequired: false,
    serverMovesLostShare: true,
    defaultProviders: ["gcp", "aws", "azure"],
    split: "Shamir 2-of-3 over GF(256)",
    overhead: "Low — fully server-side",
    bestFor: "Hands-off multi-cloud security",
  },
  {
    name: "2of3_client_custody",
    label: "2-of-3 Client Custody",
    trust: "Any 2 of {0}, {1} and your client share decrypt: no single party can, but two of the three colluding can.",
    clientShareRequired: true,
    serverMovesLostShare: false,
    defaultProviders: ["gcp", "aws", "client"],
    split: "Shamir 2-of-3 over GF(256)",
    overhead: "Medium — store 1 share per secret",
    bestFor: "Balanced: multi-cloud + human custody",
  },
  {
    name: "2of3_client_required",
    label: "2-of-3 Client Required",
    trust: "Your client share and either {0} or {1} decrypt; {0} and {1} together cannot, and losing one of them loses no secret.",
    clientShareRequired: true,
    serverMovesLostShare: true,
    defaultProviders: ["gcp", "aws", "client"],
    split: "XOR: your share ⊕ a server part held at both providers",
    overhead: "Medium — store 1 share per secret",
    bestFor: "Strict human control that survives a provider loss",
  },
];

export const custodyMode = (name: string | undefined): CustodyMode | undefined => CUSTODY_MODES.find((m) => m.name === name);

/** Whether a mode's provider slots together hold enough to rebuild a data key without the client (the server's access structure). */
export const providersTogetherDecrypt = (mode: CustodyMode): boolean => (PROVIDER_QUORUM_MODES as readonly string[]).includes(mode.name);

/** What each backend is called in the dashboard (the `backend` of `/v1/health/hsm`). */
const BACKEND_NAMES: Record<string, string> = {
  "gcp-kms": "GCP KMS",
  "aws-kms": "AWS KMS",
  "azure-keyvault": "Azure Key Vault",
  pkcs11: "PKCS#11 HSM",
  local: "local key file",
};

/** A provider slot as people should read it: its name and, once known, what backs it on this server. */
export function holderName(slot: string, backend: { backend: string; development: boolean } | undefined): string {
  if (!backend) return slot;
  const name = BACKEND_NAMES[backend.backend] ?? backend.backend;
  return `${slot} (${name}${backend.development && backend.backend !== "local" ? ", development" : ""})`;
}

/** A mode's trust line with its holders named: `name(slot)` says what each slot is. */
export function trustLine(mode: CustodyMode, holders: readonly string[], name: (slot: string) => string): string {
  const servers = holders.filter((h) => h !== "client");
  return mode.trust.replace(/\{(\d)\}/g, (_, i: string) => name(servers[Number(i)] ?? "?"));
}

/**
 * Whether reads in a vault with this mode need the client share: then the dashboard opens and seals that vault's
 * values in the browser (`secret-values.ts`), and the share never leaves it.
 */
export const needsClientShare = (name: string | undefined): boolean => custodyMode(name)?.clientShareRequired ?? false;

/** A vault's custody as the API shows it; for a mode not enabled yet, its default share holders are assumed. */
export interface CustodyFacts {
  mpc_custody?: string | null;
  mpc_providers?: readonly string[] | null;
}

const andList = (items: readonly string[]) => (items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`);

/**
 * What losing a client share means in this vault, from its mode's facts: when the provider slots alone hold
 * enough shares (2-of-3 client custody: gcp and aws hold 2 of 3), Shardvault refuses to decrypt without the
 * share, but those providers together could; saying "nobody can" would overstate the share.
 * Undefined when the vault's mode gives the client no share.
 */
function clientShareLoss(vault: CustodyFacts): { ifLost: string; withoutIt: string } | undefined {
  const mode = custodyMode(vault.mpc_custody ?? undefined);
  if (!mode?.clientShareRequired) return undefined;
  const holders = vault.mpc_providers ?? mode.defaultProviders;
  const slots = holders.filter((holder) => holder !== "client");
  if (!providersTogetherDecrypt(mode)) {
    return { ifLost: "if you lose it the secret cannot be decrypted by anyone — Shardvault cannot recover it.", withoutIt: "without it the version cannot be decrypted by anyone." };
  }
  const notTheOnlyWay = `It is not the only way in, though: the ${andList(slots)} key providers together hold ${slots.length} of the ${holders.length} shares, so whoever controls them could rebuild the secret without it.`;
  return {
    ifLost: `if you lose it Shardvault will not decrypt the secret and cannot recover it. ${notTheOnlyWay}`,
    withoutIt: `without it Shardvault will not decrypt the version and cannot recover it. ${notTheOnlyWay}`,
  };
}

/** The reminder shown beside a client-custody vault's secrets (the seed's, worded per mode); undefined otherwise. */
export function clientShareReminder(vault: CustodyFacts): string | undefined {
  const loss = clientShareLoss(vault);
  return loss && `Each secret written to this vault returns a client_share exactly once. You must store it securely: every read needs it, and ${loss.ifLost}`;
}

/** The warning of the modal that shows client shares once. */
export function clientShareWarning(vault: CustodyFacts): string {
  const loss = clientShareLoss(vault);
  return `Shardvault does not keep this client share. Every read of this version needs it, and ${loss?.withoutIt ?? "without it Shardvault will not decrypt the version."} Store it like a private key (a password manager, a hardware key or your agent's secure environment).`;
}

// The API's own vocabularies (one list each, in @shardvault/api).
export { CHARSET_NAMES as CHARSETS, KNOWN_SECRET_TYPES } from "@shardvault/api";
