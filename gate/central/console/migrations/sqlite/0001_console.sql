-- The console's own tables: users, sessions and the audit log of operator
-- actions. Times are Unix microseconds, as in the store's tables.
CREATE TABLE console_users (
    username   TEXT PRIMARY KEY,
    hash       TEXT NOT NULL,
    role       TEXT NOT NULL,
    language   TEXT NOT NULL,
    created_us BIGINT NOT NULL
);
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES console_users(username) ON DELETE CASCADE,
    created_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions(expires_us);
CREATE TABLE console_audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    time_us  BIGINT NOT NULL,
    username TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    remote   TEXT NOT NULL
);
CREATE INDEX console_audit_time ON console_audit(time_us);
