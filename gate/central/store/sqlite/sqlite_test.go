package sqlite_test

import (
	"context"
	"testing"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestReopen: data survive a reopen and the migrations are not applied twice.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, &store.Batch{Events: []store.Event{storetest.Event("p", "g", 1, storetest.Base, "a", "admitted")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != 2 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	var mode string
	if err := s.SQL.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q, %v", mode, err)
	}
	if n, _ := s.CountEvents(ctx); n != 1 {
		t.Fatalf("%d events after reopen", n)
	}
}
