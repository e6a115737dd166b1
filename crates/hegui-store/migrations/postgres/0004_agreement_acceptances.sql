-- Which version of a tenant's service agreement each end user accepted, and when (Interim
-- Measures art. 9). One row per (tenant, end user, version); the first acceptance is kept.
CREATE TABLE IF NOT EXISTS agreement_acceptances (
    tenant_id TEXT NOT NULL,
    end_user TEXT NOT NULL,
    version TEXT NOT NULL,
    accepted_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, end_user, version)
);
