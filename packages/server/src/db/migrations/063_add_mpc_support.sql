-- MPC secret storage: a vault's custody mode, its per-provider KEKs, and each version's DEK shares.

ALTER TABLE vaults ADD COLUMN mpc_custody TEXT;
ALTER TABLE vaults ADD COLUMN mpc_threshold INTEGER;
-- Share holders in share order; the client's share is listed as 'client'.
ALTER TABLE vaults ADD COLUMN mpc_providers TEXT[];

-- Per-provider KEK references for each MPC vault.
CREATE TABLE vault_mpc_keks (
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  share_index INTEGER NOT NULL,
  kek_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (vault_id, provider)
);

-- Per-version DEK shares, each wrapped by its provider's KEK, keyed by vault and provider. The client's
-- share is never stored.
CREATE TABLE secret_dek_shares (
  version_id UUID NOT NULL REFERENCES secret_versions (id) ON DELETE CASCADE,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  share_index INTEGER NOT NULL,
  kek_id TEXT NOT NULL,
  wrapped_share BYTEA NOT NULL,
  PRIMARY KEY (version_id, provider)
);
CREATE INDEX secret_dek_shares_vault_provider ON secret_dek_shares (vault_id, provider);
