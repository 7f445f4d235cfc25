-- `threadwork webchat revoke NAME`: browsers that signed in as NAME before this time are guests again.
CREATE TABLE webchat_revocations (
    name TEXT PRIMARY KEY,
    revoked_at DOUBLE PRECISION NOT NULL
);
