-- CMEK: the client-side layer. The server stores only the key's fingerprint (SHA-256 of the 32-byte key).

ALTER TABLE vaults ADD COLUMN cmek_fingerprint TEXT;
-- The fingerprint of the key a version's value was encrypted under by the client; NULL: no CMEK.
ALTER TABLE secret_versions ADD COLUMN cmek_fingerprint TEXT;

CREATE TABLE cmek_rotation_jobs (
  id UUID PRIMARY KEY,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  old_fingerprint TEXT NOT NULL,
  new_fingerprint TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  total_secrets INTEGER NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at TIMESTAMPTZ,
  -- Touched after every batch: a running job whose heartbeat stopped was interrupted (its keys are gone).
  heartbeat_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cmek_rotation_jobs_vault ON cmek_rotation_jobs (vault_id, created_at DESC);
