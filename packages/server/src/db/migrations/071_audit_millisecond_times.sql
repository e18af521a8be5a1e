-- Audit times at the precision the API shows them (milliseconds), so that an event's own created_at, used as
-- a `from` or `to` filter, selects that event.
UPDATE audit_events SET created_at = date_trunc('milliseconds', created_at);
ALTER TABLE audit_events ALTER COLUMN created_at SET DEFAULT date_trunc('milliseconds', clock_timestamp());
