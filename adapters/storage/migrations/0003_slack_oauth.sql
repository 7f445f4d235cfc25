-- Slack multi-workspace installs (adapters/slack/oauth_postgres.py): bolt's installation
-- and bot records as JSON, newest per workspace wins; OAuth state values until they expire.
CREATE TABLE slack_installations (
    n BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL DEFAULT '',
    team_id TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL,
    installed_at DOUBLE PRECISION NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX slack_installations_by_team ON slack_installations (client_id, enterprise_id, team_id, installed_at);
CREATE TABLE slack_bots (
    n BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL DEFAULT '',
    team_id TEXT NOT NULL DEFAULT '',
    installed_at DOUBLE PRECISION NOT NULL,
    data JSONB NOT NULL
);
CREATE INDEX slack_bots_by_team ON slack_bots (client_id, enterprise_id, team_id, installed_at);
CREATE TABLE slack_oauth_states (
    state TEXT PRIMARY KEY,
    expire_at DOUBLE PRECISION NOT NULL
);
