-- Governance workflows (Interim Measures arts. 9-11, 14, 15; Deep Synthesis arts. 11, 12; PIPL
-- arts. 44-47). Complaints get typed fields and a handling history of their own; incidents are
-- replaced by takedowns, refutations and reports to the authorities; admin tokens; personal
-- information requests; the lexicon review list fed by takedowns.
ALTER TABLE complaints ADD COLUMN kind TEXT NOT NULL DEFAULT 'complaint';
ALTER TABLE complaints ADD COLUMN contact TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN record_id TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN answer TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN deadline_provisional BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE complaints ADD COLUMN answered_ms INTEGER;
UPDATE complaints SET status = 'new' WHERE status = 'open';
UPDATE complaints SET status = 'answered' WHERE status = 'resolved';
UPDATE complaints SET status = 'closed' WHERE status = 'rejected';
CREATE TABLE complaint_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
INSERT INTO complaint_events (ticket, at_ms, actor, action, status, note)
    SELECT ticket, updated_ms, '', 'imported', status, handling FROM complaints WHERE handling <> '';
ALTER TABLE complaints DROP COLUMN handling;
CREATE INDEX complaint_events_ticket ON complaint_events (ticket, id);
CREATE INDEX complaints_queue ON complaints (tenant_id, status, deadline_ms);

ALTER TABLE sanctions ADD COLUMN actor TEXT NOT NULL DEFAULT 'policy';
CREATE INDEX sanctions_time ON sanctions (tenant_id, created_ms);

CREATE TABLE admin_tokens (
    token_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    digest BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER
);

DROP TABLE incidents;
CREATE TABLE takedowns (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    ticket TEXT NOT NULL,
    reason TEXT NOT NULL,
    risk TEXT NOT NULL,
    pattern TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (tenant_id, record_id)
);
CREATE TABLE lexicon_review (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    pattern TEXT NOT NULL,
    risk TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE refutations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    claim TEXT NOT NULL,
    refutation TEXT NOT NULL,
    published_where TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    record_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE authority_reports (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT NOT NULL,
    submitted_ms INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE TABLE pi_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    end_user TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline_ms INTEGER NOT NULL,
    retain_until_ms INTEGER,
    result TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
