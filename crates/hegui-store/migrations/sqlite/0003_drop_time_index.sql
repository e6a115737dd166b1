-- The index on audit record times is dropped: only `prune` looked records up by time, and it
-- now walks them in sequence order and stops at the first young one, reading only what it is
-- about to remove. Keeping the index cost every append a second index insert (about 7 % of the
-- append rate on SQLite).
DROP INDEX IF EXISTS audit_records_time;
