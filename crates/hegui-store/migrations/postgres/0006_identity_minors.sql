-- Identity status of end users (Deep Synthesis Provisions art. 9: real-identity verification)
-- and the minutes of use per day that minors mode limits (Interim Measures art. 10). hegui never
-- keeps identity documents: only whether the user is verified, who said so, and when.
ALTER TABLE end_users ADD COLUMN identity TEXT NOT NULL DEFAULT 'unverified';
ALTER TABLE end_users ADD COLUMN identity_source TEXT;
ALTER TABLE end_users ADD COLUMN identity_ms BIGINT;
-- Minutes of use of an end user on one Beijing-time day: the number of distinct minutes in
-- which they made a request, and the last such minute (minute of the day, 0..1439).
CREATE TABLE IF NOT EXISTS usage_minutes (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    day TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    last_minute BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, day)
);
