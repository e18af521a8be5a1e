-- JWT signing keys (private half wrapped by the default provider), agents, and the audit log.

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  kek_slot TEXT NOT NULL,
  kek_id TEXT NOT NULL,
  wrapped_private_key BYTEA NOT NULL,
  public_jwk JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  scopes TEXT[] NOT NULL DEFAULT '{}',
  -- Empty: every vault of the organization.
  vault_ids UUID[] NOT NULL DEFAULT '{}',
  is_active BOOLEAN NOT NULL DEFAULT true,
  key_hash BYTEA NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  -- Bumped by deactivation and re-keying: tokens carry it, so older tokens stop working at once.
  key_generation INTEGER NOT NULL DEFAULT 1,
  token_ttl_seconds INTEGER,
  expires_at TIMESTAMPTZ,
  created_by UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at TIMESTAMPTZ
);
CREATE INDEX agents_org ON agents (org_id, created_at);

CREATE TABLE audit_events (
  id UUID PRIMARY KEY,
  org_id UUID NOT NULL,
  action TEXT NOT NULL,
  actor_id UUID NOT NULL,
  actor_type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  details JSONB NOT NULL DEFAULT '{}',
  ip_address TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, created_at DESC);
CREATE INDEX audit_events_resource ON audit_events (org_id, resource_id);
