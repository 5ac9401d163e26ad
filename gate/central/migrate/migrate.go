// Package migrate applies a folder of numbered SQL migrations to a database,
// each once, in its own transaction, recorded in a table of its own; and
// rewrites ? placeholders for PostgreSQL. gatewatch's store and its console
// each keep their schema this way, in their own migrations table.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Apply applies every migration in dir (files NNNN_name.sql, in numeric
// order) newer than the newest recorded in table, creating table first. A
// migration and its record commit together; the first failure stops, naming
// the file. numbered says the driver wants $1, $2… placeholders.
func Apply(ctx context.Context, db *sql.DB, dir fs.FS, table string, numbered bool) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table %s: %w", table, err)
	}
	current, err := Version(ctx, db, table)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	names, err := fs.Glob(dir, "*.sql")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	sort.Strings(names)
	insert := `INSERT INTO ` + table + `(version, name, applied_us) VALUES (?, ?, ?)`
	if numbered {
		insert = Numbered(insert)
	}
	for _, n := range names {
		num, _, ok := strings.Cut(path.Base(n), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number and _", n)
		}
		if v <= current {
			continue
		}
		if err := apply(ctx, db, dir, n, insert, v); err != nil {
			return fmt.Errorf("migration %s: %w", n, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, dir fs.FS, name, insert string, v int64) error {
	body, err := fs.ReadFile(dir, name)
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, insert, v, name, time.Now().UnixMicro()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Version returns the newest migration recorded in table (0 for none).
func Version(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var v int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&v)
	return v, err
}

// Numbered rewrites each ? in q as $1, $2…, PostgreSQL's placeholders. The
// queries it is given hold no ? inside string literals.
func Numbered(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
