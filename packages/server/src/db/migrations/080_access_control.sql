-- Access control: members with email, password and role (owner, admin, member); invitations; policies.

ALTER TABLE users RENAME COLUMN name TO display_name;
ALTER TABLE users ADD COLUMN email TEXT;
-- argon2id (PHC string); NULL until the user sets one (the first-start owner signs in by API key).
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- Bumped by a password change: sign-in tokens carry it, so the sessions of the old password end at once.
ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'member'));
-- Emails are unique per organization, compared case-insensitively; sign-in looks them up the same way.
CREATE UNIQUE INDEX users_org_email ON users (org_id, lower(email));
CREATE INDEX users_email ON users (lower(email));
-- Each organization's first admin (the first-start admin) becomes its owner.
UPDATE users SET role = 'owner'
 WHERE id IN (SELECT DISTINCT ON (org_id) id FROM users WHERE role = 'admin' ORDER BY org_id, created_at, id);
-- The first-start admin may later be removed like any member (while another owner remains).
ALTER TABLE bootstrap DROP CONSTRAINT bootstrap_admin_user_id_fkey;

-- Invitations: the token is shown once and only its SHA-256 is stored; single use, expiring.
CREATE TABLE invites (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  token_hash BYTEA NOT NULL UNIQUE,
  invited_by UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  accepted_at TIMESTAMPTZ
);
CREATE INDEX invites_org_email ON invites (org_id, lower(email));

-- Policies: what a user or agent may do on the paths of a vault that a pattern matches.
CREATE TABLE policies (
  id UUID PRIMARY KEY,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  secret_path_pattern TEXT NOT NULL,
  principal_type TEXT NOT NULL CHECK (principal_type IN ('user', 'agent')),
  principal_id UUID NOT NULL,
  permissions TEXT[] NOT NULL,
  effect TEXT NOT NULL CHECK (effect IN ('allow', 'deny')),
  priority INTEGER NOT NULL DEFAULT 0 CHECK (priority >= 0),
  conditions JSONB NOT NULL DEFAULT '{}',
  expires_at TIMESTAMPTZ,
  created_by UUID NOT NULL,
  created_by_type TEXT NOT NULL CHECK (created_by_type IN ('user', 'agent')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Every request loads the caller's policies on the vault it names; listings load the caller's on every vault.
CREATE INDEX policies_vault_principal ON policies (vault_id, principal_id);
CREATE INDEX policies_principal ON policies (principal_id);
