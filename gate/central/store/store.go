// Package store is gatewatch's storage contract: the Store interface that the
// ingest and the API use, the rows it keeps and the filters it answers. The
// drivers live in store/sqlite (the default, one data folder) and
// store/postgres (large sites); store/storetest runs one conformance suite
// over both. This package is pure Go and imports no driver.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// ErrNotFound is returned when a snapshot or an alert does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrBadCursor is returned for a pagination cursor the store did not issue.
var ErrBadCursor = errors.New("store: bad cursor")

// Store keeps everything gatewatch receives. Commit is the only writer of
// received data; every method is safe for concurrent use.
type Store interface {
	// Commit writes one batch in one transaction: all of it or, on an error,
	// none of it (the caller then acknowledges nothing). Events, alert
	// messages and snapshots are keyed by their id (hash for snapshots): a
	// replay is stored once and counted as a duplicate.
	Commit(ctx context.Context, b *Batch) (CommitResult, error)
	// Events returns one page of events matching f, newest first, and the
	// cursor of the next page ("" after the last page).
	Events(ctx context.Context, f EventFilter) (rows []EventRow, next string, err error)
	// EachEvent calls fn for every event matching f (ignoring Limit and
	// Cursor), newest first, without holding them all in memory.
	EachEvent(ctx context.Context, f EventFilter, fn func(EventRow) error) error
	// Alerts returns the alerts matching f, most recently changed first.
	Alerts(ctx context.Context, f AlertFilter) ([]AlertRow, error)
	// Ack records that by acknowledged the alert at at; ErrNotFound when no
	// such alert exists.
	Ack(ctx context.Context, alertID, by, note string, at time.Time) error
	// Gates returns every gate heard from, with its sequence tracking.
	Gates(ctx context.Context) ([]GateRow, error)
	// Snapshot returns a stored image and its content type; ErrNotFound when
	// it was never received (or was pruned).
	Snapshot(ctx context.Context, hash string) (data []byte, contentType string, err error)
	// Quarantined returns the newest quarantined messages.
	Quarantined(ctx context.Context, limit int) ([]QuarantineRow, error)
	// ImportPeople inserts or replaces roster entries by id.
	ImportPeople(ctx context.Context, people []Person) (int, error)
	// Headcount counts the distinct people admitted by an entry event in
	// [from, to), per department of the roster ("" for holders not in it).
	Headcount(ctx context.Context, from, to time.Time) ([]DeptCount, error)
	// Prune deletes what is older than the retention allows at now.
	Prune(ctx context.Context, now time.Time, r Retention) (PruneResult, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// CountEvents returns how many events are stored.
	CountEvents(ctx context.Context) (int64, error)
	// PutEnrolments stores face enrolments in one transaction, all or
	// none, replacing any earlier enrolment of the same person.
	PutEnrolments(ctx context.Context, es []Enrolment) error
	// Enrolments lists every enrolment by person, without descriptors
	// (Count says how many).
	Enrolments(ctx context.Context) ([]Enrolment, error)
	// Enrolment returns one person's enrolment with its descriptors;
	// ErrNotFound when they are not enrolled.
	Enrolment(ctx context.Context, person string) (Enrolment, error)
	// RecordPush inserts or replaces the state of a person's enrolment on
	// one gate.
	RecordPush(ctx context.Context, p EnrolmentPush) error
	// EnrolmentPushes lists the state of every push, by person, site, gate.
	EnrolmentPushes(ctx context.Context) ([]EnrolmentPush, error)
	// Close releases the database. It is idempotent.
	Close() error
}

// Batch is what one commit writes: the decoded messages of one batch.
type Batch struct {
	Events      []Event
	Alerts      []Alert
	Gates       []GateUpdate
	Snapshots   []Snapshot
	Quarantined []QuarantineRow
}

// Len returns the number of items in the batch.
func (b *Batch) Len() int {
	return len(b.Events) + len(b.Alerts) + len(b.Gates) + len(b.Snapshots) + len(b.Quarantined)
}

// Event is a received access event: the decoded payload and its bytes as
// received (stored verbatim, so nothing the gate sent is lost).
type Event struct {
	gate.Event
	Raw      json.RawMessage
	Received time.Time
}

// Alert is a received alert message.
type Alert struct {
	gate.Alert
	Raw      json.RawMessage
	Received time.Time
}

// GateUpdate is a retained availability, state or info message of a gate.
// Exactly one of Availability, State and Info is set.
type GateUpdate struct {
	Site, Gate   string
	Received     time.Time
	Availability string // online or offline
	State        *gate.State
	Info         *gate.Info
}

// Snapshot is an image linked to an alert, stored once by its hash.
type Snapshot struct {
	Hash        string // SHA-256 hex of Data
	Site, Gate  string
	AlertID     string
	Event       string
	Kind        string // thermal or face
	ContentType string
	Data        []byte
	Time        time.Time
	Received    time.Time
}

// QuarantineRow is a message that was not stored as what it claimed to be:
// invalid against its schema, foreign to the contract, or inconsistent.
type QuarantineRow struct {
	ID       int64     `json:"id"`
	Received time.Time `json:"received"`
	Topic    string    `json:"topic"`
	Reason   string    `json:"reason"`
	Payload  []byte    `json:"payload"`
}

// CommitResult says what a commit changed.
type CommitResult struct {
	Events, DuplicateEvents int
	Alerts, DuplicateAlerts int
	Snapshots               int
	Quarantined             int
}

// EventFilter selects events. Zero fields match everything.
type EventFilter struct {
	From, To time.Time // [From, To)
	Site     string
	Gate     string
	Person   string // the holder
	Decision string
	Reason   string
	Kind     string
	Limit    int    // page size; 0 means 100, capped at 1000
	Cursor   string // from a previous page
}

// PageLimit returns the page size f asks for, defaulted and capped.
func (f EventFilter) PageLimit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// EventRow is a stored event.
type EventRow struct {
	ID       string          `json:"id"`
	Site     string          `json:"site"`
	Gate     string          `json:"gate"`
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind"`
	Decision string          `json:"decision"`
	Reasons  []string        `json:"reasons"`
	Holder   string          `json:"holder,omitempty"`
	Received time.Time       `json:"received"`
	Payload  json.RawMessage `json:"payload"`
}

// Alert statuses for AlertFilter.Status.
const (
	StatusOpen         = "open"         // not ended and not acknowledged
	StatusAcknowledged = "acknowledged" // acknowledged (ended or not)
	StatusEnded        = "ended"        // ended
	StatusAll          = ""             // every alert
)

// AlertFilter selects alerts.
type AlertFilter struct {
	Status string // StatusOpen, StatusAcknowledged, StatusEnded or StatusAll
	Type   string
	Site   string
	Gate   string
	Limit  int // 0 means 100, capped at 1000
}

// AlertRow is an alert merged over its lifecycle (new → update → end).
type AlertRow struct {
	AlertID  string          `json:"alert_id"`
	Site     string          `json:"site"`
	Gate     string          `json:"gate"`
	Type     string          `json:"type"`
	State    string          `json:"state"` // the latest: new, update or end
	Severity string          `json:"severity"`
	Message  string          `json:"message"`
	Holder   string          `json:"holder,omitempty"`
	Device   string          `json:"device,omitempty"`
	Event    string          `json:"event,omitempty"`
	Count    int             `json:"count"`
	Messages int             `json:"messages"` // lifecycle messages received
	First    time.Time       `json:"first"`
	Last     time.Time       `json:"last"`
	Ended    bool            `json:"ended"`
	Snapshot string          `json:"snapshot,omitempty"` // hash, even when images are off
	HasImage bool            `json:"has_image"`
	AckBy    string          `json:"ack_by,omitempty"`
	AckNote  string          `json:"ack_note,omitempty"`
	AckAt    time.Time       `json:"ack_at,omitzero"`
	LastRaw  json.RawMessage `json:"payload"`
}

// GateRow is what gatewatch knows of one gate.
type GateRow struct {
	Site          string            `json:"site"`
	Gate          string            `json:"gate"`
	Availability  string            `json:"availability"` // online, offline or "" (never said)
	Mode          string            `json:"mode,omitempty"`
	Lane          string            `json:"lane,omitempty"`
	FireAlarm     bool              `json:"fire_alarm"`
	Faults        map[string]string `json:"faults,omitempty"` // devices not ok
	OutboxDepth   int               `json:"outbox_depth"`
	StateTime     time.Time         `json:"state_time,omitzero"`
	LastSeen      time.Time         `json:"last_seen"`
	Version       string            `json:"version,omitempty"`
	ConfigHash    string            `json:"config_hash,omitempty"`
	CalibrationID string            `json:"calibration_id,omitempty"`
	Started       time.Time         `json:"started,omitzero"`
	MaxSeq        uint64            `json:"max_seq"`
	Duplicates    int64             `json:"duplicates"`
	Missing       uint64            `json:"missing"` // sequence numbers in Gaps
	Gaps          []Gap             `json:"gaps"`
}

// Gap is a run of sequence numbers [First, Last] not yet received from a gate.
type Gap struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

// Person is one roster entry.
type Person struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Department string `json:"department"`
}

// DeptCount is a headcount of one department.
type DeptCount struct {
	Department string `json:"department"`
	People     int    `json:"people"`
}

// Retention says how long things are kept; zero keeps for ever.
type Retention struct {
	Events    time.Duration
	Snapshots time.Duration
}

// PruneResult says what Prune deleted.
type PruneResult struct {
	Events, AlertMessages, Snapshots, Quarantined int64
	Partitions                                    []string // PostgreSQL: the partitions dropped
}

// Enrolment is one person's face enrolment as the console imported it
// from an enrolment file: descriptors only, never an image.
type Enrolment struct {
	Person      string
	Model       string // the descriptor's ModelID
	Dim         int
	Descriptors [][]float32 // nil in listings
	Count       int         // len(Descriptors)
	Enrolled    time.Time   // at the enrolment station
	Station     string      // the station that signed the file
	Imported    time.Time
	ImportedBy  string // the console user
}

// Push actions and statuses of an EnrolmentPush.
const (
	PushEnroll   = "enroll"
	PushUnenroll = "unenroll"

	PushPending  = "pending"   // sent, no result yet
	PushApplied  = "applied"   // the gate answered ok
	PushRefused  = "refused"   // the gate refused or rejected it (Reason says why)
	PushNoAnswer = "no_answer" // no result in time, or it could not be sent
)

// EnrolmentPush is the state of a person's enrolment on one gate: the last
// enroll or unenroll command sent there and its result.
type EnrolmentPush struct {
	Person, Site, Gate string
	Action             string    // PushEnroll or PushUnenroll
	Status             string    // PushPending, PushApplied, PushRefused or PushNoAnswer
	Reason             string    // the gate's reason and detail, or the send error
	Request            string    // the command's request id
	Enrolled           time.Time // the Enrolled of the enrolment pushed
	By                 string    // the console user
	Updated            time.Time
}
