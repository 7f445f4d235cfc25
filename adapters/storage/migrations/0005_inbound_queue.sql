-- The gateways' durable inbound queue (bots/inbound_queue.py, bots/inbound_queue_postgres.py):
-- every accepted message waits here until its session has taken it.
CREATE TABLE inbound (
    seq BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    enqueued_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION,
    last_error TEXT NOT NULL DEFAULT '',
    UNIQUE (session_id, message_id)
);
CREATE INDEX inbound_by_session ON inbound (session_id, seq);
CREATE TABLE inbound_catching_up_said (
    session_id TEXT PRIMARY KEY,
    said_at DOUBLE PRECISION NOT NULL
);
