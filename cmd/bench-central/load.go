package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// This file is the bulk load of the searched log: rows generated in time
// order straight into the events table, the secondary indexes dropped
// during the load and rebuilt after it.

// rowSource generates the log in time order.
type rowSource struct {
	n, i int
	seqs []uint64
	rng  *rand.Rand
	row  []any
}

func newRows(n int) *rowSource {
	return &rowSource{n: n, seqs: make([]uint64, gates), rng: rand.New(rand.NewPCG(1, 2))}
}

func (r *rowSource) Next() bool {
	if r.i >= r.n {
		return false
	}
	at := start.Add(time.Duration(int64(span) / int64(r.n) * int64(r.i)))
	g := r.rng.IntN(gates)
	r.seqs[g]++
	e := sampleEvent(r.seqs[g], g, r.rng.IntN(people), at)
	b, _ := json.Marshal(e)
	reasons := ","
	for _, x := range e.Reasons {
		reasons += string(x) + ","
	}
	r.row = []any{e.ID, e.Site, e.Gate, int64(e.Seq), at.UnixMicro(), e.Kind, e.Decision, reasons, e.Holder, at.Add(time.Second).UnixMicro(), string(b)}
	r.i++
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.row, nil }
func (r *rowSource) Err() error             { return nil }

var cols = []string{"id", "site", "gate", "seq", "time_us", "kind", "decision", "reasons", "holder", "received_us", "payload"}

// loadSQLite inserts src into events, 500 rows a statement and 200,000 a
// transaction.
func loadSQLite(ctx context.Context, db *sql.DB, src *rowSource) error {
	const per = 500
	stmtText := "INSERT INTO events(" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", per), ",")
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, stmtText)
	if err != nil {
		return err
	}
	args := make([]any, 0, per*len(cols))
	inTx := 0
	flush := func(final bool) error {
		if len(args) == per*len(cols) {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			inTx += per
			args = args[:0]
		}
		if final && len(args) > 0 {
			q := "INSERT INTO events(" + strings.Join(cols, ", ") + ") VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", len(args)/len(cols)), ",")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			args = args[:0]
		}
		if inTx >= 200_000 || final {
			stmt.Close()
			if err := tx.Commit(); err != nil {
				return err
			}
			inTx = 0
			if !final {
				if tx, err = db.BeginTx(ctx, nil); err != nil {
					return err
				}
				if stmt, err = tx.PrepareContext(ctx, stmtText); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for src.Next() {
		args = append(args, src.row...)
		if err := flush(false); err != nil {
			return err
		}
	}
	return flush(true)
}

// load bulk-generates rows events, rebuilding the secondary indexes after.
func load(ctx context.Context, name string, db *sql.DB, rows int) error {
	idx, err := dropIndexes(ctx, name, db)
	if err != nil {
		return err
	}
	src := newRows(rows)
	if name == "sqlite" {
		if err := loadSQLite(ctx, db, src); err != nil {
			return err
		}
	} else if err := loadPostgres(ctx, db, src); err != nil {
		return err
	}
	t0 := time.Now()
	for _, s := range idx {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if name == "sqlite" {
		_, err = db.ExecContext(ctx, "ANALYZE")
	} else {
		_, err = db.ExecContext(ctx, "ANALYZE events")
	}
	fmt.Printf("index store=%s seconds=%.0f\n", name, time.Since(t0).Seconds())
	return err
}

// dropIndexes drops the events table's secondary indexes and returns the
// statements that create them again.
func dropIndexes(ctx context.Context, name string, db *sql.DB) ([]string, error) {
	var idx []string
	var q string
	if name == "sqlite" {
		q = `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`
	} else {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'`
	}
	r, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	var names []string
	for r.Next() {
		var n, s string
		if err := r.Scan(&n, &s); err != nil {
			return nil, err
		}
		// pg_indexes shows a partitioned table's index as ON ONLY, which
		// would leave the partitions without it.
		names, idx = append(names, n), append(idx, strings.Replace(s, " ON ONLY ", " ON ", 1))
	}
	r.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DROP INDEX "+n); err != nil {
			return nil, err
		}
	}
	return idx, nil
}

// loadPostgres creates the monthly partitions the log spans and copies
// src into events.
func loadPostgres(ctx context.Context, db *sql.DB, src *rowSource) error {
	for m := start; m.Before(start.Add(span + 31*24*time.Hour)); m = m.AddDate(0, 1, 0) {
		name := fmt.Sprintf("events_%04d%02d", m.Year(), int(m.Month()))
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM (%d) TO (%d)`,
			name, m.UnixMicro(), m.AddDate(0, 1, 0).UnixMicro())); err != nil {
			return err
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"events"}, cols, src)
		return err
	})
	conn.Close()
	return err
}
