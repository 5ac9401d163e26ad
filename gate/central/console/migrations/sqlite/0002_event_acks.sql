-- Acknowledgements of live items the console derives from access events
-- (a credential holder mismatch: an entry denied for face_mismatch), which
-- are not gate alerts and so have no row in the store's alerts.
CREATE TABLE console_event_acks (
    event_id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    note     TEXT NOT NULL,
    at_us    BIGINT NOT NULL
);
