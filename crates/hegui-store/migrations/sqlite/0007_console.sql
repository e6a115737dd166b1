-- The operator console's people and sessions. Passwords are argon2id hashes (PHC strings);
-- sessions are kept as SM3 digests of their cookie, so a copy of the database logs nobody in.
CREATE TABLE console_users (
    name TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    failures BIGINT NOT NULL,
    locked_until_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE console_sessions (
    digest BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
