-- hegui store, PostgreSQL, version 1. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    label TEXT NOT NULL,
    digest BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE TABLE end_users (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    minor BOOLEAN NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE TABLE sanctions (
    id BIGSERIAL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    record_id TEXT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX sanctions_user ON sanctions (tenant_id, user_id);
CREATE TABLE complaints (
    ticket TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline_ms BIGINT NOT NULL,
    handling TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    record_id TEXT,
    status TEXT NOT NULL,
    reported_ms BIGINT,
    created_ms BIGINT NOT NULL
);
CREATE TABLE audit_records (
    seq BIGINT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    tenant TEXT NOT NULL,
    end_user TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    model TEXT NOT NULL,
    request_digest BYTEA NOT NULL,
    request_text TEXT,
    response_digest BYTEA NOT NULL,
    response_text TEXT,
    verdicts TEXT NOT NULL,
    label TEXT NOT NULL,
    latency_ms BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (time_ms);
CREATE INDEX audit_records_user ON audit_records (end_user);
CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL,
    last_hash BYTEA NOT NULL,
    base_seq BIGINT NOT NULL,
    base_hash BYTEA NOT NULL,
    checkpoint_seq BIGINT NOT NULL
);
INSERT INTO ledger_head VALUES (1, 0, decode(repeat('00', 32), 'hex'), 0, decode(repeat('00', 32), 'hex'), 0);
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL,
    time_ms BIGINT NOT NULL,
    reason TEXT NOT NULL,
    signature TEXT NOT NULL
);
