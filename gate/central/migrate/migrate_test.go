package migrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tables(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// TestApply: migrations run once each, in numeric order (10 after 2), and
// a later folder with one more applies only that one.
func TestApply(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	dir := fstest.MapFS{
		"0002_b.sql":  {Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1);`)},
		"0001_a.sql":  {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"0010_c.sql":  {Data: []byte(`INSERT INTO b SELECT x + 1 FROM b;`)},
		"README.text": {Data: []byte(`not a migration`)},
	}
	for range 2 {
		if err := Apply(ctx, db, dir, "m", false); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := Version(ctx, db, "m"); err != nil || v != 10 {
		t.Errorf("version %d %v, want 10", v, err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM b`).Scan(&n); err != nil || n != 2 {
		t.Errorf("b has %d rows (%v), want 2: 0010 ran after 0002, once", n, err)
	}
	dir["0011_d.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE d (x INTEGER);`)}
	if err := Apply(ctx, db, dir, "m", false); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, db); got != "a,b,d,m" {
		t.Errorf("tables %s, want a,b,d,m", got)
	}
}

// TestApplyFailure: a failing migration leaves nothing of itself (its
// statements and its record roll back together) and names the file; the
// ones before it stay applied.
func TestApplyFailure(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	dir := fstest.MapFS{
		"0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"0002_b.sql": {Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);`)},
	}
	err := Apply(ctx, db, dir, "m", false)
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b.sql") {
		t.Fatalf("err = %v, want one naming 0002_b.sql", err)
	}
	if v, _ := Version(ctx, db, "m"); v != 1 {
		t.Errorf("version %d, want 1", v)
	}
	if got := tables(t, db); got != "a,m" {
		t.Errorf("tables %s, want a,m (b rolled back)", got)
	}
	bad := fstest.MapFS{"first.sql": {Data: []byte(`SELECT 1;`)}}
	if err := Apply(ctx, open(t), bad, "m", false); err == nil || !strings.Contains(err.Error(), "first.sql: name must start with a number") {
		t.Errorf("unnumbered file: %v", err)
	}
}

func TestNumbered(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`: `SELECT 1`,
		`INSERT INTO t(a, b, c) VALUES (?, ?, ?)`: `INSERT INTO t(a, b, c) VALUES ($1, $2, $3)`,
		`a = ? AND b IN (?, ?) LIMIT ?`:           `a = $1 AND b IN ($2, $3) LIMIT $4`,
	} {
		if got := Numbered(in); got != want {
			t.Errorf("Numbered(%q) = %q, want %q", in, got, want)
		}
	}
}
