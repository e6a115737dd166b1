-- hegui store, SQLite, version 1. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    label TEXT NOT NULL,
    digest BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);
CREATE TABLE end_users (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    minor BOOLEAN NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE TABLE sanctions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    record_id TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX sanctions_user ON sanctions (tenant_id, user_id);
CREATE TABLE complaints (
    ticket TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline_ms INTEGER NOT NULL,
    handling TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    record_id TEXT,
    status TEXT NOT NULL,
    reported_ms INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    tenant TEXT NOT NULL,
    end_user TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    model TEXT NOT NULL,
    request_digest BLOB NOT NULL,
    request_text TEXT,
    response_digest BLOB NOT NULL,
    response_text TEXT,
    verdicts TEXT NOT NULL,
    label TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    hash BLOB NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time_ms);
CREATE INDEX audit_records_user ON audit_records (end_user);
CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL,
    last_hash BLOB NOT NULL,
    base_seq INTEGER NOT NULL,
    base_hash BLOB NOT NULL,
    checkpoint_seq INTEGER NOT NULL
);
INSERT INTO ledger_head VALUES (1, 0, zeroblob(32), 0, zeroblob(32), 0);
CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    time_ms INTEGER NOT NULL,
    reason TEXT NOT NULL,
    signature TEXT NOT NULL
);
