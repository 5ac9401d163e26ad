package console

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/pgtest"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
)

// TestDBOnBothStores runs the console's tables on SQLite and PostgreSQL:
// migrations (twice: idempotent), users, passwords, sessions with expiry,
// the audit log and the roster read.
func TestDBOnBothStores(t *testing.T) {
	ctx := context.Background()
	open := map[string]func(t *testing.T) (store.Store, *sql.DB){
		"sqlite": func(t *testing.T) (store.Store, *sql.DB) {
			s, err := sqlite.Open(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, s.SQL
		},
		"postgres": func(t *testing.T) (store.Store, *sql.DB) {
			srv := pgtest.Start(t)
			s, err := postgres.Open(ctx, srv.DSN)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s, s.SQL
		},
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			st, sdb := open[dialect](t)
			db, err := OpenDB(ctx, sdb, dialect)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenDB(ctx, sdb, dialect); err != nil {
				t.Fatalf("second migration run: %v", err)
			}
			if err := db.AddUser(ctx, "ada", "short", RoleAdmin, "en"); err == nil {
				t.Fatal("a short password was accepted")
			}
			if err := db.AddUser(ctx, "ada", testPassword, RoleAdmin, "zh"); err != nil {
				t.Fatal(err)
			}
			if err := db.AddUser(ctx, "ada", testPassword, RoleGuard, "en"); !errors.Is(err, ErrUserExists) {
				t.Fatalf("duplicate user: %v, want ErrUserExists", err)
			}
			if err := db.AddUser(ctx, "bob", testPassword, "root", "en"); err == nil {
				t.Fatal("an unknown role was accepted")
			}
			if _, err := db.Authenticate(ctx, "ada", "wrong password!"); !errors.Is(err, ErrBadPassword) {
				t.Fatalf("wrong password: %v", err)
			}
			u, err := db.Authenticate(ctx, "ada", testPassword)
			if err != nil || u.Role != RoleAdmin || u.Language != "zh" {
				t.Fatalf("authenticate: %+v %v", u, err)
			}
			now := time.Now()
			tok, err := db.NewSession(ctx, "ada", now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if u, err := db.Session(ctx, tok, now.Add(59*time.Minute)); err != nil || u.Username != "ada" {
				t.Fatalf("live session: %+v %v", u, err)
			}
			if _, err := db.Session(ctx, tok, now.Add(time.Hour)); !errors.Is(err, ErrNoSession) {
				t.Fatalf("expired session: %v, want ErrNoSession", err)
			}
			tok2, _ := db.NewSession(ctx, "ada", now, time.Hour)
			if err := db.SetPassword(ctx, "ada", "another long password"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Session(ctx, tok2, now); !errors.Is(err, ErrNoSession) {
				t.Fatalf("session after a password change: %v, want ErrNoSession", err)
			}
			if err := db.Audit(ctx, AuditEntry{Username: "ada", Action: "login", Target: "ada", Remote: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
			a, err := db.AuditLog(ctx, 0, 10)
			if err != nil || len(a) != 1 || a[0].Action != "login" {
				t.Fatalf("audit log: %+v %v", a, err)
			}
			if _, err := st.ImportPeople(ctx, []store.Person{{ID: "E1", Name: "王伟", Department: "装配车间"}}); err != nil {
				t.Fatal(err)
			}
			if p, err := db.People(ctx); err != nil || len(p) != 1 || p[0].Name != "王伟" {
				t.Fatalf("roster: %+v %v", p, err)
			}
			for _, by := range []string{"ada", "bob"} { // the first acknowledgement stays
				if err := db.AckEvent(ctx, "ev-1", by, "checked", now); err != nil {
					t.Fatal(err)
				}
			}
			if acks, err := db.EventAcks(ctx, []string{"ev-1", "ev-2"}); err != nil || len(acks) != 1 || acks["ev-1"].By != "ada" {
				t.Fatalf("event acks: %+v %v", acks, err)
			}
			if err := db.RemoveUser(ctx, "ada"); err != nil {
				t.Fatal(err)
			}
			if err := db.RemoveUser(ctx, "ada"); !errors.Is(err, ErrNoUser) {
				t.Fatalf("removing twice: %v, want ErrNoUser", err)
			}
		})
	}
}
