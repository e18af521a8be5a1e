/**
 * The three MPC custody modes as the seed document's "Choosing a custody mode" table describes them, with
 * each mode's default share holders (the server's `envelope/custody-modes.ts`). The trust lines follow the README's
 * corrected model: in 2-of-3 client custody, GCP and AWS together hold two of the three shares.
 */
import type { CUSTODY_MODE_NAMES } from "@shardvault/api";
import type { CustodyModeName } from "@shardvault/sdk";

export interface CustodyMode {
  name: CustodyModeName;
  label: string;
  /** One line on its trust model. */
  trust: string;
  clientShareRequired: boolean;
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
    trust: "Neither Shardvault nor GCP alone can decrypt: every read needs the server's GCP KMS share and your client share.",
    clientShareRequired: true,
    defaultProviders: ["gcp", "client"],
    split: "XOR 2-of-2",
    overhead: "Medium — store 1 share per secret",
    bestFor: "Maximum human control",
  },
  {
    name: "2of3_multi_hsm",
    label: "2-of-3 Multi-HSM",
    trust: "Any single cloud provider compromise is insufficient: any 2 of GCP, AWS and Azure decrypt, fully server-side, no client share.",
    clientShareRequired: false,
    defaultProviders: ["gcp", "aws", "azure"],
    split: "Shamir 2-of-3 over GF(256)",
    overhead: "Low — fully server-side",
    bestFor: "Hands-off multi-cloud security",
  },
  {
    name: "2of3_client_custody",
    label: "2-of-3 Client Custody",
    trust: "Any 2 of GCP, AWS and your client share decrypt: no single party can, but two of the three colluding can.",
    clientShareRequired: true,
    defaultProviders: ["gcp", "aws", "client"],
    split: "Shamir 2-of-3 over GF(256)",
    overhead: "Medium — store 1 share per secret",
    bestFor: "Balanced: multi-cloud + human custody",
  },
];

export const custodyMode = (name: string | undefined): CustodyMode | undefined => CUSTODY_MODES.find((m) => m.name === name);

/** Whether reads in a vault with this mode need the client share. */
export const needsClientShare = (name: string | undefined): boolean => custodyMode(name)?.clientShareRequired ?? false;

/** The seed's reminder for client-custody modes. */
export const CLIENT_SHARE_REMINDER =
  "Each secret written to this vault returns a client_share exactly once. You must store it securely: every read needs it, and if you lose it the secret cannot be decrypted — Shardvault cannot recover it.";

// The API's own vocabularies (one list each, in @shardvault/api).
export { CHARSET_NAMES as CHARSETS, SECRET_TYPES } from "@shardvault/api";
