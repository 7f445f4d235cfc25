-- Slack events acknowledged but not yet handed to the inbound queue (adapters/slack/received_journal.py).
CREATE TABLE slack_received (
    event_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    owner TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX slack_received_by_age ON slack_received (received_at);
