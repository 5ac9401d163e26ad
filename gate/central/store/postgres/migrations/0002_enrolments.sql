-- Face enrolments imported through the console (descriptors only, never
-- images) and the state of each push to a gate.
CREATE TABLE enrolments (
	person      TEXT PRIMARY KEY,
	model       TEXT NOT NULL,
	dim         BIGINT NOT NULL,
	descriptors TEXT NOT NULL, -- JSON [[float, …], …]
	count       BIGINT NOT NULL,
	enrolled_us BIGINT NOT NULL, -- at the enrolment station
	station     TEXT NOT NULL,
	imported_us BIGINT NOT NULL,
	imported_by TEXT NOT NULL
);

CREATE TABLE enrolment_pushes (
	person      TEXT NOT NULL,
	site        TEXT NOT NULL,
	gate        TEXT NOT NULL,
	action      TEXT NOT NULL, -- enroll or unenroll
	status      TEXT NOT NULL, -- pending, applied, refused, no_answer
	reason      TEXT NOT NULL,
	request     TEXT NOT NULL,
	enrolled_us BIGINT NOT NULL, -- the enrolment pushed
	by_user     TEXT NOT NULL,
	updated_us  BIGINT NOT NULL,
	PRIMARY KEY (person, site, gate)
);
