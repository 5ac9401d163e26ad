package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/pgtest"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

func open(t *testing.T, srv *pgtest.Server) *postgres.Store {
	t.Helper()
	dsn, err := srv.CreateDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := pgtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, srv) })
}

// TestPartitions: partitions exist ahead, a batch with an event in a far
// month creates its partition, retention drops whole past months only.
func TestPartitions(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.Start(t)
	s := open(t, srv)
	defer s.Close()
	now := time.Now().UTC()
	parts, err := s.Partitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range postgres.Ahead + 1 {
		m := now.AddDate(0, i, 1-now.Day())
		if want := m.Format("events_200601"); !slices.Contains(parts, want) {
			t.Fatalf("partitions %v lack %s", parts, want)
		}
	}
	old := now.AddDate(-1, 0, 1-now.Day())
	if _, err := s.Commit(ctx, &store.Batch{Events: []store.Event{
		storetest.Event("p", "g", 1, old, "a", "admitted"),
		storetest.Event("p", "g", 2, now.Add(-91*24*time.Hour), "a", "admitted"),
	}}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Prune(ctx, now, store.Retention{Events: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Partitions, old.Format("events_200601")) || res.Events < 1 {
		t.Fatalf("prune: %+v, want %s dropped", res, old.Format("events_200601"))
	}
	parts, _ = s.Partitions(ctx)
	if slices.Contains(parts, old.Format("events_200601")) {
		t.Fatalf("partition %s kept: %v", old.Format("events_200601"), parts)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 2 {
		t.Fatalf("schema version %d, %v", v, err)
	}
}
