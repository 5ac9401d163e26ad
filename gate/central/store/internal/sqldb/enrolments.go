package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gateguard/gateguard/gate/central/store"
)

// PutEnrolments implements store.Store.
func (s *DB) PutEnrolments(ctx context.Context, es []store.Enrolment) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	tx, err := s.SQL.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("enrolments: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, e := range es {
		if e.Person == "" || len(e.Descriptors) == 0 {
			return s.errorf("enrolment %q: no person or no descriptors", e.Person)
		}
		d, err := json.Marshal(e.Descriptors)
		if err != nil {
			return s.errorf("enrolment %s: %w", e.Person, err)
		}
		if _, err := tx.ExecContext(ctx, s.Q(`INSERT INTO enrolments(person, model, dim, descriptors, count, enrolled_us, station, imported_us, imported_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (person) DO UPDATE SET model = excluded.model, dim = excluded.dim, descriptors = excluded.descriptors,
			count = excluded.count, enrolled_us = excluded.enrolled_us, station = excluded.station,
			imported_us = excluded.imported_us, imported_by = excluded.imported_by`),
			e.Person, e.Model, e.Dim, string(d), len(e.Descriptors), us(e.Enrolled), e.Station, us(e.Imported), e.ImportedBy); err != nil {
			return s.errorf("enrolment %s: %w", e.Person, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("enrolments: %w", err)
	}
	return nil
}

const enrolmentCols = `person, model, dim, count, enrolled_us, station, imported_us, imported_by`

func scanEnrolment(sc interface{ Scan(...any) error }, extra ...any) (store.Enrolment, error) {
	var e store.Enrolment
	var enrolled, imported int64
	err := sc.Scan(append([]any{&e.Person, &e.Model, &e.Dim, &e.Count, &enrolled, &e.Station, &imported, &e.ImportedBy}, extra...)...)
	e.Enrolled, e.Imported = fromUS(enrolled), fromUS(imported)
	return e, err
}

// Enrolments implements store.Store.
func (s *DB) Enrolments(ctx context.Context) ([]store.Enrolment, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT `+enrolmentCols+` FROM enrolments ORDER BY person`)
	if err != nil {
		return nil, s.errorf("enrolments: %w", err)
	}
	defer rows.Close()
	var out []store.Enrolment
	for rows.Next() {
		e, err := scanEnrolment(rows)
		if err != nil {
			return nil, s.errorf("enrolments: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Enrolment implements store.Store.
func (s *DB) Enrolment(ctx context.Context, person string) (store.Enrolment, error) {
	var d string
	e, err := scanEnrolment(s.SQL.QueryRowContext(ctx, s.Q(`SELECT `+enrolmentCols+`, descriptors FROM enrolments WHERE person = ?`), person), &d)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Enrolment{}, fmt.Errorf("%w: enrolment of %s", store.ErrNotFound, person)
	}
	if err != nil {
		return store.Enrolment{}, s.errorf("enrolment %s: %w", person, err)
	}
	if err := json.Unmarshal([]byte(d), &e.Descriptors); err != nil {
		return store.Enrolment{}, s.errorf("enrolment %s: descriptors: %w", person, err)
	}
	return e, nil
}

// RecordPush implements store.Store.
func (s *DB) RecordPush(ctx context.Context, p store.EnrolmentPush) error {
	if _, err := s.SQL.ExecContext(ctx, s.Q(`INSERT INTO enrolment_pushes(person, site, gate, action, status, reason, request, enrolled_us, by_user, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (person, site, gate) DO UPDATE SET action = excluded.action, status = excluded.status, reason = excluded.reason,
		request = excluded.request, enrolled_us = excluded.enrolled_us, by_user = excluded.by_user, updated_us = excluded.updated_us`),
		p.Person, p.Site, p.Gate, p.Action, p.Status, p.Reason, p.Request, us(p.Enrolled), p.By, us(p.Updated)); err != nil {
		return s.errorf("push %s to %s/%s: %w", p.Person, p.Site, p.Gate, err)
	}
	return nil
}

// EnrolmentPushes implements store.Store.
func (s *DB) EnrolmentPushes(ctx context.Context) ([]store.EnrolmentPush, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT person, site, gate, action, status, reason, request, enrolled_us, by_user, updated_us
		FROM enrolment_pushes ORDER BY person, site, gate`)
	if err != nil {
		return nil, s.errorf("pushes: %w", err)
	}
	defer rows.Close()
	var out []store.EnrolmentPush
	for rows.Next() {
		var p store.EnrolmentPush
		var enrolled, updated int64
		if err := rows.Scan(&p.Person, &p.Site, &p.Gate, &p.Action, &p.Status, &p.Reason, &p.Request, &enrolled, &p.By, &updated); err != nil {
			return nil, s.errorf("pushes: %w", err)
		}
		p.Enrolled, p.Updated = fromUS(enrolled), fromUS(updated)
		out = append(out, p)
	}
	return out, rows.Err()
}
