package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

// BenchmarkCommit500 commits batches of 500 new events from 50 gates.
func BenchmarkCommit500(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	seq := make([]uint64, 50)
	n := 0
	for b.Loop() {
		evs := make([]store.Event, 500)
		for i := range evs {
			g := n % 50
			seq[g]++
			n++
			evs[i] = storetest.Event("p1", fmt.Sprintf("lane-%02d", g), seq[g], storetest.Base.Add(time.Duration(n)*time.Millisecond), fmt.Sprintf("emp-%05d", n%20000), "admitted")
		}
		if _, err := s.Commit(ctx, &store.Batch{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
