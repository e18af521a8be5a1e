-- Rate-limit counters that every instance on one PostgreSQL shares (http/rate-limit-store.ts): one row per
-- limit and key (`sign_in:203.0.113.7`, `writes:<principal id>`), counting requests in a fixed window that
-- ends at `window_ends` (the database's clock, the same for every instance). UNLOGGED: a counter lost in a
-- crash costs nothing, and skipping the WAL keeps the one statement per limited request cheap. PGlite
-- instances count in their own memory and leave the table empty.
CREATE UNLOGGED TABLE rate_limit_counters (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  window_ends TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_limit_counters_window_ends ON rate_limit_counters (window_ends);
