-- The per-user index on audit records is dropped: nothing reads through it (an export walks
-- every sequence number between two checkpoints anyway, and filters by user as it goes), and
-- keeping it cost each append a write to a random index page: about 4 KiB of WAL per record,
-- more than the record itself.
DROP INDEX IF EXISTS audit_records_user;
