// Package sqldb is the SQL shared by gatewatch's SQLite and PostgreSQL
// stores: one implementation of store.Store over database/sql, with the few
// differences (placeholders, migrations, partitions, batched deletes) in a
// Dialect. Times are stored as Unix microseconds (BIGINT) in both.
package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/migrate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// Dialect is what differs between the databases.
type Dialect struct {
	// Name is sqlite or postgres, for errors.
	Name string
	// Numbered placeholders ($1, $2 …) instead of ?.
	Numbered bool
	// Migrations holds NNNN_name.sql files applied in order, each once.
	Migrations fs.FS
	// RowID names the physical row id used for batched deletes (rowid, ctid).
	RowID string
	// TxSetup, when set, runs first in every commit's transaction.
	TxSetup string
	// MaxParams bounds the parameters of one statement.
	MaxParams int
	// BeforeCommit runs before a batch's transaction (PostgreSQL creates the
	// month partitions the batch's events need).
	BeforeCommit func(ctx context.Context, db *sql.DB, b *store.Batch) error
	// PruneEvents deletes events older than cutoff (Unix µs); nil uses
	// batched deletes.
	PruneEvents func(ctx context.Context, db *sql.DB, cutoff int64) (n int64, partitions []string, err error)
}

// DeleteBatch is how many rows one batched delete removes.
const DeleteBatch = 5000

// DB is a store.Store over database/sql.
type DB struct {
	SQL *sql.DB
	d   Dialect

	commitMu sync.Mutex // one writer at a time

	stmtMu sync.Mutex // guards stmts
	stmts  map[string]*sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// New wraps an open database and applies its migrations.
func New(ctx context.Context, db *sql.DB, d Dialect) (*DB, error) {
	s := &DB{SQL: db, d: d, stmts: map[string]*sql.Stmt{}}
	if err := migrate.Apply(ctx, s.SQL, s.d.Migrations, "schema_migrations", s.d.Numbered); err != nil {
		return nil, s.errorf("%w", err)
	}
	return s, nil
}

// prepared returns q (with ? placeholders) prepared once on the database
// and bound to tx: a commit's statements are parsed once, not per batch.
func (s *DB) prepared(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	st, ok := s.stmts[q]
	s.stmtMu.Unlock()
	if !ok {
		var err error
		if st, err = s.SQL.PrepareContext(ctx, s.Q(q)); err != nil {
			return nil, err
		}
		s.stmtMu.Lock()
		if old, raced := s.stmts[q]; raced {
			_ = st.Close()
			st = old
		} else {
			s.stmts[q] = st
		}
		s.stmtMu.Unlock()
	}
	return tx.StmtContext(ctx, st), nil
}

// exec runs a prepared statement in tx.
func (s *DB) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Q rewrites ? placeholders for the dialect.
func (s *DB) Q(q string) string {
	if !s.d.Numbered {
		return q
	}
	return migrate.Numbered(q)
}

func (s *DB) errorf(format string, a ...any) error {
	return fmt.Errorf("store/"+s.d.Name+": "+format, a...)
}

// SchemaVersion returns the newest migration applied.
func (s *DB) SchemaVersion(ctx context.Context) (int64, error) {
	return migrate.Version(ctx, s.SQL, "schema_migrations")
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// reasonsCol stores reasons as ",a,b," so one LIKE finds a reason.
func reasonsCol(rs []gate.Reason) string {
	if len(rs) == 0 {
		return ","
	}
	var b strings.Builder
	b.WriteByte(',')
	for _, r := range rs {
		b.WriteString(string(r))
		b.WriteByte(',')
	}
	return b.String()
}

func splitReasons(s string) []string {
	out := []string{}
	for r := range strings.SplitSeq(strings.Trim(s, ","), ",") {
		if r != "" {
			out = append(out, r)
		}
	}
	return out
}

type gateKey struct{ site, gate string }

type gateTrack struct {
	seqs       []uint64 // newly stored
	duplicates int64
	lastSeen   time.Time
}

// Commit implements store.Store.
func (s *DB) Commit(ctx context.Context, b *store.Batch) (store.CommitResult, error) {
	var res store.CommitResult
	if b.Len() == 0 {
		return res, nil
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if s.d.BeforeCommit != nil {
		if err := s.d.BeforeCommit(ctx, s.SQL, b); err != nil {
			return res, s.errorf("commit: %w", err)
		}
	}
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return res, s.errorf("commit: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.d.TxSetup != "" {
		if _, err := tx.ExecContext(ctx, s.d.TxSetup); err != nil {
			return res, s.errorf("commit: %w", err)
		}
	}
	track := map[gateKey]*gateTrack{}
	tr := func(site, g string, received time.Time) *gateTrack {
		k := gateKey{site, g}
		t := track[k]
		if t == nil {
			t = &gateTrack{}
			track[k] = t
		}
		if received.After(t.lastSeen) {
			t.lastSeen = received
		}
		return t
	}
	if err := s.insertEvents(ctx, tx, b.Events, &res, tr); err != nil {
		return store.CommitResult{}, err
	}
	if err := s.insertAlerts(ctx, tx, b.Alerts, &res, tr); err != nil {
		return store.CommitResult{}, err
	}
	for _, u := range b.Gates {
		tr(u.Site, u.Gate, u.Received)
	}
	for _, sn := range b.Snapshots {
		tr(sn.Site, sn.Gate, sn.Received)
	}
	for k, t := range track {
		if err := s.trackGate(ctx, tx, k, t); err != nil {
			return store.CommitResult{}, err
		}
	}
	for _, u := range b.Gates {
		if err := s.updateGate(ctx, tx, u); err != nil {
			return store.CommitResult{}, err
		}
	}
	for _, sn := range b.Snapshots {
		r, err := s.exec(ctx, tx, `INSERT INTO snapshots(hash, site, gate, alert_id, event, kind, content_type, data, time_us, received_us)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sn.Hash, sn.Site, sn.Gate, sn.AlertID, sn.Event, sn.Kind, sn.ContentType, sn.Data, us(sn.Time), us(sn.Received))
		if err != nil {
			return store.CommitResult{}, s.errorf("commit: snapshot %s: %w", sn.Hash, err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			res.Snapshots++
		}
	}
	for _, q := range b.Quarantined {
		if _, err := s.exec(ctx, tx, `INSERT INTO quarantine(received_us, topic, reason, payload) VALUES (?, ?, ?, ?)`,
			us(q.Received), q.Topic, q.Reason, q.Payload); err != nil {
			return store.CommitResult{}, s.errorf("commit: quarantine: %w", err)
		}
		res.Quarantined++
	}
	if err := tx.Commit(); err != nil {
		return store.CommitResult{}, s.errorf("commit: %w", err)
	}
	return res, nil
}

const eventCols = 11

func (s *DB) insertEvents(ctx context.Context, tx *sql.Tx, evs []store.Event, res *store.CommitResult, tr func(string, string, time.Time) *gateTrack) error {
	for len(evs) > 0 {
		// Chunks of a few fixed sizes, so that each size's statement is
		// prepared once (at most 5 distinct statements).
		n := 1
		for _, size := range []int{256, 64, 16, 4} {
			if len(evs) >= size && size*eventCols <= s.d.MaxParams {
				n = size
				break
			}
		}
		part := evs[:n]
		evs = evs[n:]
		var q strings.Builder
		q.WriteString(`INSERT INTO events(id, site, gate, seq, time_us, kind, decision, reasons, holder, received_us, payload) VALUES `)
		args := make([]any, 0, n*eventCols)
		seen := map[string]bool{}
		for i, e := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			args = append(args, e.ID, e.Site, e.Gate, int64(e.Seq), us(e.Time), e.Kind, e.Decision,
				reasonsCol(e.Reasons), e.Holder, us(e.Received), string(e.Raw))
		}
		q.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
		st, err := s.prepared(ctx, tx, q.String())
		if err != nil {
			return s.errorf("commit: events: %w", err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return s.errorf("commit: events: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return s.errorf("commit: events: %w", err)
			}
			seen[id] = true
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return s.errorf("commit: events: %w", err)
		}
		rows.Close()
		for _, e := range part {
			t := tr(e.Site, e.Gate, e.Received)
			if seen[e.ID] {
				delete(seen, e.ID) // the same id twice in one batch: the second is a duplicate
				res.Events++
				t.seqs = append(t.seqs, e.Seq)
			} else {
				res.DuplicateEvents++
				t.duplicates++
			}
		}
	}
	return nil
}

func (s *DB) insertAlerts(ctx context.Context, tx *sql.Tx, als []store.Alert, res *store.CommitResult, tr func(string, string, time.Time) *gateTrack) error {
	fresh := make([]store.Alert, 0, len(als))
	for _, a := range als {
		r, err := s.exec(ctx, tx, `INSERT INTO alert_messages(id, alert_id, site, gate, seq, time_us, state, received_us, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			a.ID, a.AlertID, a.Site, a.Gate, int64(a.Seq), us(a.Time), a.State, us(a.Received), string(a.Raw))
		if err != nil {
			return s.errorf("commit: alert %s: %w", a.ID, err)
		}
		t := tr(a.Site, a.Gate, a.Received)
		if n, _ := r.RowsAffected(); n == 0 {
			res.DuplicateAlerts++
			t.duplicates++
			continue
		}
		res.Alerts++
		t.seqs = append(t.seqs, a.Seq)
		fresh = append(fresh, a)
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].Time.Before(fresh[j].Time) })
	for _, a := range fresh {
		if err := s.mergeAlert(ctx, tx, a); err != nil {
			return err
		}
	}
	return nil
}

// mergeAlert folds one new lifecycle message into its alert: the latest
// message (by the gate's time) gives state, severity, message and count;
// an end, once received, keeps the alert ended.
func (s *DB) mergeAlert(ctx context.Context, tx *sql.Tx, a store.Alert) error {
	snap := ""
	if a.Reading != nil {
		snap = a.Reading.Snapshot
	}
	var (
		state, severity, message, holder, device, event, snapshot, payload string
		count, messages                                                    int
		first, last                                                        int64
		ended                                                              bool
	)
	err := tx.QueryRowContext(ctx, s.Q(`SELECT state, severity, message, holder, device, event, snapshot, payload,
		count, messages, first_us, last_us, ended FROM alerts WHERE alert_id = ?`), a.AlertID).
		Scan(&state, &severity, &message, &holder, &device, &event, &snapshot, &payload, &count, &messages, &first, &last, &ended)
	t := us(a.Time)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = s.exec(ctx, tx, `INSERT INTO alerts(alert_id, site, gate, type, state, severity, message, holder, device,
			event, count, messages, first_us, last_us, ended, snapshot, ack_by, ack_note, ack_us, payload)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, '', '', 0, ?)`,
			a.AlertID, a.Site, a.Gate, a.Type, a.State, a.Severity, a.Message, a.Holder, a.Device, a.Event,
			max(a.Count, 1), t, t, a.State == gate.AlertEnd, snap, string(a.Raw))
		if err != nil {
			return s.errorf("commit: alert %s: %w", a.AlertID, err)
		}
		return nil
	case err != nil:
		return s.errorf("commit: alert %s: %w", a.AlertID, err)
	}
	if t >= last {
		state, severity, message, payload, last = a.State, a.Severity, a.Message, string(a.Raw), t
	}
	first = min(first, t)
	count = max(count, a.Count)
	messages++
	ended = ended || a.State == gate.AlertEnd
	holder = cmp(holder, a.Holder)
	device = cmp(device, a.Device)
	event = cmp(event, a.Event)
	snapshot = cmp(snapshot, snap)
	_, err = s.exec(ctx, tx, `UPDATE alerts SET state = ?, severity = ?, message = ?, holder = ?, device = ?, event = ?,
		snapshot = ?, payload = ?, count = ?, messages = ?, first_us = ?, last_us = ?, ended = ? WHERE alert_id = ?`,
		state, severity, message, holder, device, event, snapshot, payload, count, messages, first, last, ended, a.AlertID)
	if err != nil {
		return s.errorf("commit: alert %s: %w", a.AlertID, err)
	}
	return nil
}

func cmp(have, got string) string {
	if have != "" {
		return have
	}
	return got
}

// trackGate updates a gate's sequence tracking with the sequence numbers
// newly stored: numbers past the highest open a gap, numbers inside a gap
// fill it.
func (s *DB) trackGate(ctx context.Context, tx *sql.Tx, k gateKey, t *gateTrack) error {
	if _, err := s.exec(ctx, tx, `INSERT INTO gates(site, gate, last_seen_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		k.site, k.gate, us(t.lastSeen)); err != nil {
		return s.errorf("commit: gate %s/%s: %w", k.site, k.gate, err)
	}
	var maxSeq int64
	if err := tx.QueryRowContext(ctx, s.Q(`SELECT max_seq FROM gates WHERE site = ? AND gate = ?`), k.site, k.gate).Scan(&maxSeq); err != nil {
		return s.errorf("commit: gate %s/%s: %w", k.site, k.gate, err)
	}
	if len(t.seqs) > 0 {
		gaps, err := s.gaps(ctx, tx, k.site, k.gate)
		if err != nil {
			return err
		}
		newMax, newGaps, changed := FoldSeqs(uint64(maxSeq), gaps, t.seqs)
		if changed {
			if _, err := s.exec(ctx, tx, `DELETE FROM gaps WHERE site = ? AND gate = ?`, k.site, k.gate); err != nil {
				return s.errorf("commit: gaps %s/%s: %w", k.site, k.gate, err)
			}
			for _, g := range newGaps {
				if _, err := s.exec(ctx, tx, `INSERT INTO gaps(site, gate, first_seq, last_seq) VALUES (?, ?, ?, ?)`,
					k.site, k.gate, int64(g.First), int64(g.Last)); err != nil {
					return s.errorf("commit: gaps %s/%s: %w", k.site, k.gate, err)
				}
			}
		}
		maxSeq = int64(newMax)
	}
	if _, err := s.exec(ctx, tx, `UPDATE gates SET max_seq = ?, duplicates = duplicates + ?,
		last_seen_us = CASE WHEN last_seen_us > ? THEN last_seen_us ELSE ? END WHERE site = ? AND gate = ?`,
		maxSeq, t.duplicates, us(t.lastSeen), us(t.lastSeen), k.site, k.gate); err != nil {
		return s.errorf("commit: gate %s/%s: %w", k.site, k.gate, err)
	}
	return nil
}

// FoldSeqs folds newly stored sequence numbers into a gate's highest number
// and gaps. A number past the highest opens a gap for those skipped (from 1
// for a gate's first message); one inside a gap removes it from the gap. A
// number at or below the highest that is in no gap (a gate whose count
// restarted) changes nothing.
func FoldSeqs(maxSeq uint64, gaps []store.Gap, seqs []uint64) (uint64, []store.Gap, bool) {
	sorted := append([]uint64(nil), seqs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	changed := false
	out := append([]store.Gap(nil), gaps...)
	for _, s := range sorted {
		if s == 0 {
			continue
		}
		if s > maxSeq {
			if s > maxSeq+1 {
				out = append(out, store.Gap{First: maxSeq + 1, Last: s - 1})
				changed = true
			}
			maxSeq = s
			continue
		}
		for i, g := range out {
			if s < g.First || s > g.Last {
				continue
			}
			changed = true
			var repl []store.Gap
			if s > g.First {
				repl = append(repl, store.Gap{First: g.First, Last: s - 1})
			}
			if s < g.Last {
				repl = append(repl, store.Gap{First: s + 1, Last: g.Last})
			}
			out = append(out[:i], append(repl, out[i+1:]...)...)
			break
		}
	}
	return maxSeq, out, changed
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func (s *DB) gaps(ctx context.Context, q querier, site, g string) ([]store.Gap, error) {
	rows, err := q.QueryContext(ctx, s.Q(`SELECT first_seq, last_seq FROM gaps WHERE site = ? AND gate = ? ORDER BY first_seq`), site, g)
	if err != nil {
		return nil, s.errorf("gaps %s/%s: %w", site, g, err)
	}
	defer rows.Close()
	var out []store.Gap
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			return nil, s.errorf("gaps %s/%s: %w", site, g, err)
		}
		out = append(out, store.Gap{First: uint64(a), Last: uint64(b)})
	}
	return out, rows.Err()
}

func (s *DB) updateGate(ctx context.Context, tx *sql.Tx, u store.GateUpdate) error {
	var err error
	switch {
	case u.Availability != "":
		_, err = s.exec(ctx, tx, `UPDATE gates SET availability = ? WHERE site = ? AND gate = ?`, u.Availability, u.Site, u.Gate)
	case u.State != nil:
		faults := map[string]string{}
		for d, st := range u.State.Devices {
			if st != "ok" {
				faults[d] = st
			}
		}
		fj, _ := json.Marshal(faults)
		_, err = s.exec(ctx, tx, `UPDATE gates SET mode = ?, lane = ?, fire_alarm = ?, faults = ?, outbox_depth = ?, state_us = ?
			WHERE site = ? AND gate = ? AND state_us <= ?`,
			string(u.State.Mode), u.State.Lane, u.State.FireAlarm, string(fj), u.State.OutboxDepth, us(u.State.Time),
			u.Site, u.Gate, us(u.State.Time))
	case u.Info != nil:
		_, err = s.exec(ctx, tx, `UPDATE gates SET version = ?, config_hash = ?, calibration_id = ?, started_us = ?
			WHERE site = ? AND gate = ? AND started_us <= ?`,
			u.Info.Version, u.Info.ConfigHash, u.Info.CalibrationID, us(u.Info.Started), u.Site, u.Gate, us(u.Info.Started))
	}
	if err != nil {
		return s.errorf("commit: gate %s/%s: %w", u.Site, u.Gate, err)
	}
	return nil
}

// cursor is the keyset position of the last row of a page.
func encodeCursor(t int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t, 10) + ":" + id))
}

func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", store.ErrBadCursor
	}
	ts, id, ok := strings.Cut(string(b), ":")
	t, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", store.ErrBadCursor
	}
	return t, id, nil
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func (s *DB) eventWhere(f store.EventFilter) (string, []any, error) {
	var w []string
	var args []any
	add := func(cond string, a ...any) { w = append(w, cond); args = append(args, a...) }
	if !f.From.IsZero() {
		add("time_us >= ?", us(f.From))
	}
	if !f.To.IsZero() {
		add("time_us < ?", us(f.To))
	}
	if f.Site != "" {
		add("site = ?", f.Site)
	}
	if f.Gate != "" {
		add("gate = ?", f.Gate)
	}
	if f.Person != "" {
		add("holder = ?", f.Person)
	}
	if f.Decision != "" {
		add("decision = ?", f.Decision)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Reason != "" {
		add(`reasons LIKE ? ESCAPE '\'`, "%,"+likeEscape(f.Reason)+",%")
	}
	if f.Cursor != "" {
		t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		add("(time_us < ? OR (time_us = ? AND id < ?))", t, t, id)
	}
	if len(w) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(w, " AND "), args, nil
}

const eventSelect = `SELECT id, site, gate, seq, time_us, kind, decision, reasons, holder, received_us, payload FROM events`

func scanEvent(rows *sql.Rows) (store.EventRow, error) {
	var (
		e            store.EventRow
		seq, t, recv int64
		reasons, pl  string
	)
	if err := rows.Scan(&e.ID, &e.Site, &e.Gate, &seq, &t, &e.Kind, &e.Decision, &reasons, &e.Holder, &recv, &pl); err != nil {
		return e, err
	}
	e.Seq, e.Time, e.Received = uint64(seq), fromUS(t), fromUS(recv)
	e.Reasons = splitReasons(reasons)
	e.Payload = json.RawMessage(pl)
	return e, nil
}

// Events implements store.Store.
func (s *DB) Events(ctx context.Context, f store.EventFilter) ([]store.EventRow, string, error) {
	where, args, err := s.eventWhere(f)
	if err != nil {
		return nil, "", err
	}
	limit := f.PageLimit()
	rows, err := s.SQL.QueryContext(ctx, s.Q(eventSelect+where+` ORDER BY time_us DESC, id DESC LIMIT ?`), append(args, limit+1)...)
	if err != nil {
		return nil, "", s.errorf("events: %w", err)
	}
	defer rows.Close()
	out := []store.EventRow{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", s.errorf("events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.errorf("events: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(us(last.Time), last.ID)
	}
	return out, next, nil
}

// ExplainEvents returns the database's plan for Events(f) (with
// EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite), for the
// benchmark and for tuning indexes.
func (s *DB) ExplainEvents(ctx context.Context, f store.EventFilter) (string, error) {
	where, args, err := s.eventWhere(f)
	if err != nil {
		return "", err
	}
	explain := "EXPLAIN QUERY PLAN "
	if s.d.Numbered {
		explain = "EXPLAIN ANALYZE "
	}
	rows, err := s.SQL.QueryContext(ctx, s.Q(explain+eventSelect+where+` ORDER BY time_us DESC, id DESC LIMIT ?`), append(args, f.PageLimit()+1)...)
	if err != nil {
		return "", s.errorf("explain: %w", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", s.errorf("explain: %w", err)
		}
		fmt.Fprintln(&b, vals[len(vals)-1])
	}
	return b.String(), rows.Err()
}

// EachEvent implements store.Store.
func (s *DB) EachEvent(ctx context.Context, f store.EventFilter, fn func(store.EventRow) error) error {
	f.Cursor = ""
	where, args, err := s.eventWhere(f)
	if err != nil {
		return err
	}
	rows, err := s.SQL.QueryContext(ctx, s.Q(eventSelect+where+` ORDER BY time_us DESC, id DESC`), args...)
	if err != nil {
		return s.errorf("events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return s.errorf("events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return s.errorf("events: %w", err)
	}
	return nil
}

// Alerts implements store.Store.
func (s *DB) Alerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRow, error) {
	var w []string
	var args []any
	switch f.Status {
	case store.StatusOpen:
		w = append(w, "ended = ? AND ack_us = 0")
		args = append(args, false)
	case store.StatusAcknowledged:
		w = append(w, "ack_us <> 0")
	case store.StatusEnded:
		w = append(w, "ended = ?")
		args = append(args, true)
	case store.StatusAll:
	default:
		return nil, s.errorf("alerts: status %q is not open, acknowledged, ended or empty", f.Status)
	}
	for col, v := range map[string]string{"type": f.Type, "site": f.Site, "gate": f.Gate} {
		if v != "" {
			w = append(w, col+" = ?")
			args = append(args, v)
		}
	}
	q := `SELECT a.alert_id, a.site, a.gate, a.type, a.state, a.severity, a.message, a.holder, a.device, a.event, a.count,
		a.messages, a.first_us, a.last_us, a.ended, a.snapshot, a.ack_by, a.ack_note, a.ack_us, a.payload,
		EXISTS (SELECT 1 FROM snapshots sn WHERE sn.hash = a.snapshot AND a.snapshot <> '') FROM alerts a`
	if len(w) > 0 {
		q += " WHERE " + strings.Join(w, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q += ` ORDER BY a.last_us DESC, a.alert_id LIMIT ?`
	rows, err := s.SQL.QueryContext(ctx, s.Q(q), append(args, limit)...)
	if err != nil {
		return nil, s.errorf("alerts: %w", err)
	}
	defer rows.Close()
	out := []store.AlertRow{}
	for rows.Next() {
		var (
			a                  store.AlertRow
			first, last, ackUS int64
			pl                 string
		)
		if err := rows.Scan(&a.AlertID, &a.Site, &a.Gate, &a.Type, &a.State, &a.Severity, &a.Message, &a.Holder, &a.Device,
			&a.Event, &a.Count, &a.Messages, &first, &last, &a.Ended, &a.Snapshot, &a.AckBy, &a.AckNote, &ackUS, &pl, &a.HasImage); err != nil {
			return nil, s.errorf("alerts: %w", err)
		}
		a.First, a.Last, a.AckAt = fromUS(first), fromUS(last), fromUS(ackUS)
		a.LastRaw = json.RawMessage(pl)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("alerts: %w", err)
	}
	return out, nil
}

// Ack implements store.Store.
func (s *DB) Ack(ctx context.Context, alertID, by, note string, at time.Time) error {
	r, err := s.SQL.ExecContext(ctx, s.Q(`UPDATE alerts SET ack_by = ?, ack_note = ?, ack_us = ? WHERE alert_id = ?`), by, note, us(at), alertID)
	if err != nil {
		return s.errorf("ack %s: %w", alertID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("store: alert %q: %w", alertID, store.ErrNotFound)
	}
	return nil
}

// Gates implements store.Store.
func (s *DB) Gates(ctx context.Context) ([]store.GateRow, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT site, gate, availability, mode, lane, fire_alarm, faults, outbox_depth, state_us,
		last_seen_us, version, config_hash, calibration_id, started_us, max_seq, duplicates FROM gates ORDER BY site, gate`)
	if err != nil {
		return nil, s.errorf("gates: %w", err)
	}
	var out []store.GateRow
	for rows.Next() {
		var (
			g                          store.GateRow
			faults                     string
			stateUS, seenUS, startedUS int64
			maxSeq                     int64
		)
		if err := rows.Scan(&g.Site, &g.Gate, &g.Availability, &g.Mode, &g.Lane, &g.FireAlarm, &faults, &g.OutboxDepth, &stateUS,
			&seenUS, &g.Version, &g.ConfigHash, &g.CalibrationID, &startedUS, &maxSeq, &g.Duplicates); err != nil {
			rows.Close()
			return nil, s.errorf("gates: %w", err)
		}
		_ = json.Unmarshal([]byte(faults), &g.Faults)
		g.StateTime, g.LastSeen, g.Started, g.MaxSeq = fromUS(stateUS), fromUS(seenUS), fromUS(startedUS), uint64(maxSeq)
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.errorf("gates: %w", err)
	}
	for i := range out {
		g := &out[i]
		if g.Gaps, err = s.gaps(ctx, s.SQL, g.Site, g.Gate); err != nil {
			return nil, err
		}
		if g.Gaps == nil {
			g.Gaps = []store.Gap{}
		}
		for _, gp := range g.Gaps {
			g.Missing += gp.Last - gp.First + 1
		}
	}
	return out, nil
}

// Snapshot implements store.Store.
func (s *DB) Snapshot(ctx context.Context, hash string) ([]byte, string, error) {
	var (
		data []byte
		ct   string
	)
	err := s.SQL.QueryRowContext(ctx, s.Q(`SELECT data, content_type FROM snapshots WHERE hash = ?`), hash).Scan(&data, &ct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("store: snapshot %q: %w", hash, store.ErrNotFound)
	}
	if err != nil {
		return nil, "", s.errorf("snapshot %s: %w", hash, err)
	}
	return data, ct, nil
}

// Quarantined implements store.Store.
func (s *DB) Quarantined(ctx context.Context, limit int) ([]store.QuarantineRow, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.SQL.QueryContext(ctx, s.Q(`SELECT id, received_us, topic, reason, payload FROM quarantine ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, s.errorf("quarantine: %w", err)
	}
	defer rows.Close()
	out := []store.QuarantineRow{}
	for rows.Next() {
		var (
			q  store.QuarantineRow
			at int64
		)
		if err := rows.Scan(&q.ID, &at, &q.Topic, &q.Reason, &q.Payload); err != nil {
			return nil, s.errorf("quarantine: %w", err)
		}
		q.Received = fromUS(at)
		out = append(out, q)
	}
	return out, rows.Err()
}

// ImportPeople implements store.Store.
func (s *DB) ImportPeople(ctx context.Context, people []store.Person) (int, error) {
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.errorf("people: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, p := range people {
		if _, err := tx.ExecContext(ctx, s.Q(`INSERT INTO people(id, name, department) VALUES (?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, department = excluded.department`), p.ID, p.Name, p.Department); err != nil {
			return 0, s.errorf("people %s: %w", p.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.errorf("people: %w", err)
	}
	return len(people), nil
}

// Headcount implements store.Store.
func (s *DB) Headcount(ctx context.Context, from, to time.Time) ([]store.DeptCount, error) {
	rows, err := s.SQL.QueryContext(ctx, s.Q(`SELECT COALESCE(p.department, ''), COUNT(DISTINCT e.holder)
		FROM events e LEFT JOIN people p ON p.id = e.holder
		WHERE e.kind = 'entry' AND e.decision = 'admitted' AND e.holder <> '' AND e.time_us >= ? AND e.time_us < ?
		GROUP BY COALESCE(p.department, '') ORDER BY 1`), us(from), us(to))
	if err != nil {
		return nil, s.errorf("headcount: %w", err)
	}
	defer rows.Close()
	out := []store.DeptCount{}
	for rows.Next() {
		var d store.DeptCount
		if err := rows.Scan(&d.Department, &d.People); err != nil {
			return nil, s.errorf("headcount: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteBefore deletes rows of table whose col is below cutoff, DeleteBatch
// at a time, each batch its own statement, so a large prune never holds the
// writer for long.
func (s *DB) DeleteBefore(ctx context.Context, table, col string, cutoff int64) (int64, error) {
	var total int64
	for {
		r, err := s.SQL.ExecContext(ctx, s.Q(fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s < ? LIMIT %d)`,
			table, s.d.RowID, s.d.RowID, table, col, DeleteBatch)), cutoff)
		if err != nil {
			return total, s.errorf("prune %s: %w", table, err)
		}
		n, _ := r.RowsAffected()
		total += n
		if n < DeleteBatch {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// Prune implements store.Store.
func (s *DB) Prune(ctx context.Context, now time.Time, r store.Retention) (store.PruneResult, error) {
	var res store.PruneResult
	var err error
	if r.Events > 0 {
		cut := us(now.Add(-r.Events))
		if s.d.PruneEvents != nil {
			res.Events, res.Partitions, err = s.d.PruneEvents(ctx, s.SQL, cut)
		} else {
			res.Events, err = s.DeleteBefore(ctx, "events", "time_us", cut)
		}
		if err != nil {
			return res, err
		}
		if res.AlertMessages, err = s.DeleteBefore(ctx, "alert_messages", "time_us", cut); err != nil {
			return res, err
		}
		if _, err := s.SQL.ExecContext(ctx, s.Q(`DELETE FROM alerts WHERE last_us < ?`), cut); err != nil {
			return res, s.errorf("prune alerts: %w", err)
		}
		if res.Quarantined, err = s.DeleteBefore(ctx, "quarantine", "received_us", cut); err != nil {
			return res, err
		}
	}
	if r.Snapshots > 0 {
		if res.Snapshots, err = s.DeleteBefore(ctx, "snapshots", "time_us", us(now.Add(-r.Snapshots))); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Ping implements store.Store.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.SQL.PingContext(ctx); err != nil {
		return s.errorf("ping: %w", err)
	}
	var one int
	if err := s.SQL.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return s.errorf("ping: %w", err)
	}
	return nil
}

// CountEvents implements store.Store.
func (s *DB) CountEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0, s.errorf("count: %w", err)
	}
	return n, nil
}

// Close implements store.Store.
func (s *DB) Close() error {
	s.closeOnce.Do(func() {
		s.stmtMu.Lock()
		for _, st := range s.stmts {
			_ = st.Close()
		}
		s.stmts = map[string]*sql.Stmt{}
		s.stmtMu.Unlock()
		s.closeErr = s.SQL.Close()
	})
	return s.closeErr
}
