-- One check value per provider slot whose key material is a local file (HMAC under the slot's master key of a
-- fixed label): start-up tells the key file a slot's data was made with from another one, instead of failing
-- later on every share as if the data were corrupt. It reveals nothing usable about the key.
CREATE TABLE provider_key_checks (
  slot TEXT PRIMARY KEY,
  key_check BYTEA NOT NULL,
  recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
