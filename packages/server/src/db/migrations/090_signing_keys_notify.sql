-- Every change to the signing keys is announced on channel shardvault_signing_keys: each instance then reloads
-- its key list at once, and otherwise refuses unknown kids from memory (auth/signing-keys.ts).
CREATE FUNCTION notify_signing_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('shardvault_signing_keys', ''); RETURN NULL; END $$;
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys FOR EACH STATEMENT EXECUTE FUNCTION notify_signing_keys_changed();
