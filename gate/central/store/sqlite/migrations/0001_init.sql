-- gatewatch schema v1 (SQLite). Times are Unix microseconds.
CREATE TABLE events (
	id          TEXT PRIMARY KEY,
	site        TEXT NOT NULL,
	gate        TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	time_us     INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	decision    TEXT NOT NULL,
	reasons     TEXT NOT NULL, -- ",a,b,"
	holder      TEXT NOT NULL,
	received_us INTEGER NOT NULL,
	payload     TEXT NOT NULL  -- the JSON as received
);
CREATE INDEX events_time ON events(time_us, id);
CREATE INDEX events_gate_time ON events(gate, time_us, id);
CREATE INDEX events_holder_time ON events(holder, time_us, id);

CREATE TABLE alert_messages (
	id          TEXT PRIMARY KEY,
	alert_id    TEXT NOT NULL,
	site        TEXT NOT NULL,
	gate        TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	time_us     INTEGER NOT NULL,
	state       TEXT NOT NULL,
	received_us INTEGER NOT NULL,
	payload     TEXT NOT NULL
);
CREATE INDEX alert_messages_alert ON alert_messages(alert_id);
CREATE INDEX alert_messages_time ON alert_messages(time_us);

CREATE TABLE alerts (
	alert_id  TEXT PRIMARY KEY,
	site      TEXT NOT NULL,
	gate      TEXT NOT NULL,
	type      TEXT NOT NULL,
	state     TEXT NOT NULL,
	severity  TEXT NOT NULL,
	message   TEXT NOT NULL,
	holder    TEXT NOT NULL,
	device    TEXT NOT NULL,
	event     TEXT NOT NULL,
	count     INTEGER NOT NULL,
	messages  INTEGER NOT NULL,
	first_us  INTEGER NOT NULL,
	last_us   INTEGER NOT NULL,
	ended     BOOLEAN NOT NULL,
	snapshot  TEXT NOT NULL,
	ack_by    TEXT NOT NULL,
	ack_note  TEXT NOT NULL,
	ack_us    INTEGER NOT NULL,
	payload   TEXT NOT NULL
);
CREATE INDEX alerts_last ON alerts(last_us);

CREATE TABLE gates (
	site           TEXT NOT NULL,
	gate           TEXT NOT NULL,
	availability   TEXT NOT NULL DEFAULT '',
	mode           TEXT NOT NULL DEFAULT '',
	lane           TEXT NOT NULL DEFAULT '',
	fire_alarm     BOOLEAN NOT NULL DEFAULT FALSE,
	faults         TEXT NOT NULL DEFAULT '{}',
	outbox_depth   INTEGER NOT NULL DEFAULT 0,
	state_us       INTEGER NOT NULL DEFAULT 0,
	last_seen_us   INTEGER NOT NULL DEFAULT 0,
	version        TEXT NOT NULL DEFAULT '',
	config_hash    TEXT NOT NULL DEFAULT '',
	calibration_id TEXT NOT NULL DEFAULT '',
	started_us     INTEGER NOT NULL DEFAULT 0,
	max_seq        INTEGER NOT NULL DEFAULT 0,
	duplicates     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (site, gate)
);

CREATE TABLE gaps (
	site      TEXT NOT NULL,
	gate      TEXT NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	PRIMARY KEY (site, gate, first_seq)
);

CREATE TABLE snapshots (
	hash         TEXT PRIMARY KEY,
	site         TEXT NOT NULL,
	gate         TEXT NOT NULL,
	alert_id     TEXT NOT NULL,
	event        TEXT NOT NULL,
	kind         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	data         BLOB NOT NULL,
	time_us      INTEGER NOT NULL,
	received_us  INTEGER NOT NULL
);
CREATE INDEX snapshots_time ON snapshots(time_us);

CREATE TABLE quarantine (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	received_us INTEGER NOT NULL,
	topic       TEXT NOT NULL,
	reason      TEXT NOT NULL,
	payload     BLOB NOT NULL
);
CREATE INDEX quarantine_received ON quarantine(received_us);

CREATE TABLE people (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	department TEXT NOT NULL
);
