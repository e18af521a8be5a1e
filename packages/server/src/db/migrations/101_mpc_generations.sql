-- MPC layouts change over a vault's life (KEK rotation, provider replacement, share refresh). Each change
-- starts a new generation of the vault's layout (its share holders and per-slot KEKs); a lifecycle job then
-- brings every version to it. A version records the generation and the holder list its shares are bound to,
-- so that it stays readable while it waits for the job, and the holder list its DEK commitment binds when
-- that differs (a client-custody replacement moves shares without the DEK, so it cannot recompute it).

ALTER TABLE vaults ADD COLUMN mpc_generation INTEGER NOT NULL DEFAULT 1;

ALTER TABLE secret_versions ADD COLUMN mpc_generation INTEGER;
ALTER TABLE secret_versions ADD COLUMN mpc_providers TEXT[];
ALTER TABLE secret_versions ADD COLUMN mpc_commitment_providers TEXT[];

UPDATE secret_versions s SET mpc_generation = v.mpc_generation, mpc_providers = v.mpc_providers
  FROM vaults v WHERE s.vault_id = v.id AND v.mpc_custody IS NOT NULL;

CREATE INDEX secret_versions_mpc_generation ON secret_versions (vault_id, mpc_generation) WHERE mpc_generation IS NOT NULL;
