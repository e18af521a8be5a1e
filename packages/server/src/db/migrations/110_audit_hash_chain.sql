-- The tamper-evident audit chain (audit/chain-hash.ts): per organization, each event's integrity_hash is an
-- HMAC under the chain key over the previous event's hash and every field of the event, chain_seq included.

ALTER TABLE audit_events ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_event_id UUID;
ALTER TABLE audit_events ADD COLUMN integrity_hash TEXT;

-- Events from before the chain keep no hash: they are numbered in time order, so that verification finds them
-- at the start of their organization's sequence and reports them as unchained. A row that has no number
-- belongs to no chain; verification reports it as an event that does not belong.
UPDATE audit_events SET chain_seq = numbered.seq
  FROM (SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY created_at, id) AS seq FROM audit_events) AS numbered
 WHERE audit_events.id = numbered.id;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (org_id, chain_seq);
CREATE INDEX audit_events_unsequenced ON audit_events (org_id, created_at) WHERE chain_seq IS NULL;

-- The head of each organization's chain, locked by whoever appends (audit/audit.ts), so that instances sharing
-- the database append one after the other and never fork it. chain_start_seq: the first number of the chain
-- (lower ones are events from before it). last_event_id and last_hash stay NULL until the first chained event
-- (which links to nothing). last_created_at keeps event times from going backwards along the chain.
CREATE TABLE audit_chain_heads (
  org_id UUID PRIMARY KEY,
  chain_start_seq BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  last_event_id UUID,
  last_hash TEXT,
  last_created_at TIMESTAMPTZ
);
INSERT INTO audit_chain_heads (org_id, chain_start_seq, last_seq, last_created_at)
  SELECT org_id, max(chain_seq) + 1, max(chain_seq), max(created_at) FROM audit_events GROUP BY org_id;

-- The chain key, stored only wrapped by the default key provider and bound to its purpose (audit/chain-key.ts).
CREATE TABLE audit_chain_keys (
  id TEXT PRIMARY KEY,
  kek_slot TEXT NOT NULL,
  kek_id TEXT NOT NULL,
  wrapped_key BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
