// Package postgres is gatewatch's store for large sites: PostgreSQL through
// jackc/pgx/v5, with events partitioned by month (native range partitions
// on time_us, named events_YYYYMM, created ahead and on demand) and
// retention by dropping the partitions entirely past it. The schema is
// applied by versioned migrations embedded in the binary.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/internal/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Ahead is how many months past the current one get their partition at
// Open and at every Prune.
const Ahead = 2

// Store is a PostgreSQL store.
type Store struct {
	*sqldb.DB

	mu    sync.Mutex // guards parts
	parts map[string]bool
}

// Open connects to the database dsn names and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/postgres: connect: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store/postgres: %w", err)
	}
	s := &Store{parts: map[string]bool{}}
	// A commit is acknowledged to the broker once it returns, so it must
	// be on disk by then whatever the server's default.
	d := sqldb.Dialect{Name: "postgres", Numbered: true, Migrations: sub, RowID: "ctid", MaxParams: 65000,
		TxSetup:      "SET LOCAL synchronous_commit = on",
		BeforeCommit: s.beforeCommit, PruneEvents: s.pruneEvents}
	if s.DB, err = sqldb.New(ctx, db, d); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.EnsureAhead(ctx, time.Now()); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// month returns the partition name and bounds (Unix µs) of t's month.
func month(t time.Time) (name string, from, to int64) {
	t = t.UTC()
	start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return fmt.Sprintf("events_%04d%02d", start.Year(), int(start.Month())), start.UnixMicro(), start.AddDate(0, 1, 0).UnixMicro()
}

// EnsureAhead creates the partitions of now's month and the Ahead after it.
func (s *Store) EnsureAhead(ctx context.Context, now time.Time) error {
	for i := range Ahead + 1 {
		if err := s.ensure(ctx, s.SQL, now.UTC().AddDate(0, i, 1-now.UTC().Day())); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) ensure(ctx context.Context, db *sql.DB, t time.Time) error {
	name, from, to := month(t)
	s.mu.Lock()
	known := s.parts[name]
	s.mu.Unlock()
	if known {
		return nil
	}
	q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF events FOR VALUES FROM (%d) TO (%d)`, name, from, to)
	if _, err := db.ExecContext(ctx, q); err != nil {
		// Another gatewatch may have created it at the same moment.
		if _, err2 := db.ExecContext(ctx, q); err2 != nil {
			return fmt.Errorf("store/postgres: partition %s: %w", name, err)
		}
	}
	s.mu.Lock()
	s.parts[name] = true
	s.mu.Unlock()
	return nil
}

func (s *Store) beforeCommit(ctx context.Context, db *sql.DB, b *store.Batch) error {
	for _, e := range b.Events {
		if err := s.ensure(ctx, db, e.Time); err != nil {
			return err
		}
	}
	return nil
}

// Partitions lists the event partitions, oldest first.
func (s *Store) Partitions(ctx context.Context) ([]string, error) {
	rows, err := s.SQL.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'events' ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("store/postgres: partitions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store/postgres: partitions: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// pruneEvents drops every partition whose month ends at or before cutoff;
// events of the month the cutoff falls in stay until that month is past.
func (s *Store) pruneEvents(ctx context.Context, db *sql.DB, cutoff int64) (int64, []string, error) {
	parts, err := s.Partitions(ctx)
	if err != nil {
		return 0, nil, err
	}
	var n int64
	var dropped []string
	for _, p := range parts {
		ym, ok := strings.CutPrefix(p, "events_")
		t, err := time.Parse("200601", ym)
		if !ok || err != nil {
			continue
		}
		if _, _, to := month(t); to > cutoff {
			continue
		}
		var rows int64
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+p).Scan(&rows); err != nil {
			return n, dropped, fmt.Errorf("store/postgres: prune %s: %w", p, err)
		}
		if _, err := db.ExecContext(ctx, `DROP TABLE `+p); err != nil {
			return n, dropped, fmt.Errorf("store/postgres: prune %s: %w", p, err)
		}
		s.mu.Lock()
		delete(s.parts, p)
		s.mu.Unlock()
		n += rows
		dropped = append(dropped, p)
	}
	if err := s.EnsureAhead(ctx, time.Now()); err != nil {
		return n, dropped, err
	}
	return n, dropped, nil
}
