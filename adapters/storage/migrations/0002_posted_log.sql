-- The exactly-once record of Slack and Teams posts (adapters/posted_log.py), one log per platform.
CREATE TABLE posted_log (
    log TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    value JSONB NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (log, idempotency_key)
);
CREATE INDEX posted_log_by_age ON posted_log (created_at);
