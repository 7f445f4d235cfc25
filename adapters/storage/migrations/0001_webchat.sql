-- The web chat: channels, messages (with upload metadata in files), the event log the
-- live stream reads, and one-time invites (adapters/webchat/invites.py).
CREATE TABLE webchat_channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE webchat_messages (
    n BIGSERIAL UNIQUE,
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    author TEXT NOT NULL,
    is_bot BOOLEAN NOT NULL,
    text TEXT NOT NULL,
    blocks JSONB NOT NULL DEFAULT '[]',
    files JSONB NOT NULL DEFAULT '[]',
    ts DOUBLE PRECISION NOT NULL,
    idempotency_key TEXT UNIQUE
);
CREATE INDEX webchat_messages_by_thread ON webchat_messages (channel, thread, ts, n);
CREATE TABLE webchat_events (
    seq BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL
);
CREATE TABLE webchat_invites (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    used_at DOUBLE PRECISION
);
