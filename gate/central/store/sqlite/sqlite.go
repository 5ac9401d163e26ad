// Package sqlite is gatewatch's default store: one SQLite database file
// (gatewatch.db) in the data folder, in WAL mode with full fsync on commit,
// driven by modernc.org/sqlite (pure Go, no cgo). The schema is applied by
// versioned migrations embedded in the binary; retention deletes in batches.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/gateguard/gateguard/gate/central/store/internal/sqldb"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file's name inside the data folder.
const FileName = "gatewatch.db"

// Store is a SQLite store.
type Store struct {
	*sqldb.DB
	// Path is the database file.
	Path string
}

// Open opens (creating it and the folder when missing) the database in dir
// and applies any pending migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("store/sqlite: no data folder")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("store/sqlite: data folder: %w", err)
	}
	p := filepath.Join(dir, FileName)
	q := url.Values{}
	for _, pr := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", pr)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+p+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: open %s: %w", p, err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store/sqlite: %w", err)
	}
	s, err := sqldb.New(ctx, db, sqldb.Dialect{Name: "sqlite", Migrations: sub, RowID: "rowid", MaxParams: 32000})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store/sqlite: open %s: %w", p, err)
	}
	return &Store{DB: s, Path: p}, nil
}
