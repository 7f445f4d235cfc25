-- Web chat messages stored but not yet handed to the inbound queue (adapters/webchat/handover.py).
CREATE TABLE webchat_handover (
    message_id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    stored_at DOUBLE PRECISION NOT NULL,
    replays INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webchat_handover_by_age ON webchat_handover (stored_at);
