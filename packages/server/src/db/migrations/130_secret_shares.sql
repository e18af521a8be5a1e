-- Shares of one secret version (shares/share-service.ts). A share names the version it serves; in a
-- client-custody vault it also holds that version's value sealed under a link key the server never stores
-- (sealed_value), so that the database and the providers together still cannot read it.

CREATE TABLE secret_shares (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  version_id UUID NOT NULL REFERENCES secret_versions (id) ON DELETE CASCADE,
  recipient_type TEXT NOT NULL CHECK (recipient_type IN ('anyone_with_link', 'user', 'agent', 'external_email', 'creator')),
  -- user and creator shares: a user's id; agent shares: an agent's id; link shares: NULL.
  recipient_id UUID,
  recipient_email TEXT,
  -- argon2id (PHC string) of the passphrase, when the share has one.
  passphrase_hash TEXT,
  ip_allowlist TEXT[],
  sealed_value BYTEA,
  expires_at TIMESTAMPTZ NOT NULL,
  max_access_count INTEGER CHECK (max_access_count >= 1),
  access_count INTEGER NOT NULL DEFAULT 0,
  created_by UUID NOT NULL,
  created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  accepted_at TIMESTAMPTZ,
  declined_at TIMESTAMPTZ,
  revoked_at TIMESTAMPTZ,
  CHECK ((recipient_type IN ('user', 'agent', 'creator')) = (recipient_id IS NOT NULL)),
  CHECK ((recipient_type = 'external_email') = (recipient_email IS NOT NULL))
);
CREATE INDEX secret_shares_creator ON secret_shares (org_id, created_by, created_at);
CREATE INDEX secret_shares_recipient ON secret_shares (recipient_id) WHERE recipient_id IS NOT NULL;
CREATE INDEX secret_shares_email ON secret_shares (org_id, lower(recipient_email)) WHERE recipient_email IS NOT NULL;
