-- Organizations, users and their API keys, vaults, and versioned secrets (plain envelope encryption).

CREATE TABLE organizations (
  id UUID PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- User API keys: only SHA-256 of the key is stored, under a unique index used for lookup.
CREATE TABLE api_keys (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  key_hash BYTEA NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  scopes TEXT[] NOT NULL DEFAULT '{}',
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ,
  last_used_at TIMESTAMPTZ
);

-- One row, written by the first start: which key is the bootstrap admin key.
CREATE TABLE bootstrap (
  singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
  org_id UUID NOT NULL REFERENCES organizations (id),
  admin_user_id UUID NOT NULL REFERENCES users (id),
  admin_key_id UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE vaults (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_by UUID NOT NULL,
  created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
  -- The vault's own KEK at its provider slot (plain envelope encryption).
  kek_slot TEXT NOT NULL,
  kek_id TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX vaults_org ON vaults (org_id, created_at);

-- The per-path version counter: a version number is reserved with one UPDATE … RETURNING, so numbers
-- never repeat, also after a delete or a failed write (which leaves a gap).
CREATE TABLE secret_paths (
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  last_version INTEGER NOT NULL,
  PRIMARY KEY (vault_id, path)
);

CREATE TABLE secret_versions (
  id UUID PRIMARY KEY,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version >= 1),
  type TEXT NOT NULL,
  metadata JSONB,
  -- Sealed value (crypto format v1), the DEK's commitment, and the DEK wrapped by the vault's KEK.
  ciphertext BYTEA NOT NULL,
  dek_commitment BYTEA NOT NULL,
  wrapped_dek BYTEA,
  kek_slot TEXT,
  kek_id TEXT,
  expires_at TIMESTAMPTZ,
  max_access_count INTEGER,
  access_count INTEGER NOT NULL DEFAULT 0,
  is_disabled BOOLEAN NOT NULL DEFAULT false,
  deleted_at TIMESTAMPTZ,
  created_by UUID NOT NULL,
  created_by_type TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (vault_id, path, version)
);
CREATE INDEX secret_versions_latest ON secret_versions (vault_id, path, version DESC);
