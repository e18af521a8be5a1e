/** The DEK's sizes and the HKDF-SHA256 labels (empty salt) of the keys derived from it: one definition for both engines. */
export const DEK_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
export const VALUE_KEY_LABEL = new TextEncoder().encode("shardvault/v1/value-key");
export const COMMITMENT_KEY_LABEL = new TextEncoder().encode("shardvault/v1/dek-commitment-key");
