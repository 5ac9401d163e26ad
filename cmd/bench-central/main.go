// Command bench-central measures gatewatch's store (make bench-central):
// the ingest rate (events/s through decoding, schema validation, batched
// commit and acknowledgement) into SQLite and PostgreSQL, and the p50/p95
// time of the two commonest searches — a person over a month, a gate over
// a day, first page of 100 as the console asks — on a bulk-generated log
// (10 million events by default), with its row count.
//
// PostgreSQL is a throwaway server from pgtest (fsync and
// synchronous_commit on). The log spans 90 days (the default retention) of
// 50 gates and 20,000 people; rows are generated straight into the events
// table (multi-row INSERTs for SQLite, COPY for PostgreSQL) with the
// secondary indexes dropped during the load and rebuilt after it.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/ingest"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/pgtest"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
)

const (
	gates  = 50
	people = 20000
	span   = 90 * 24 * time.Hour
)

var start = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// explain prints the query plans (-explain).
var explain bool

func main() {
	rows := flag.Int("rows", 10_000_000, "events in the searched log")
	ingestN := flag.Int("ingest", 50_000, "events for the ingest rate")
	queries := flag.Int("queries", 200, "searches of each kind")
	stores := flag.String("stores", "sqlite,postgres", "stores to measure")
	dir := flag.String("dir", "", "work folder (default: a temporary one, deleted after)")
	flag.BoolVar(&explain, "explain", false, "print each search's query plan")
	cpu := flag.String("cpuprofile", "", "write a CPU profile")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*rows, *ingestN, *queries, strings.Split(*stores, ","), *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench-central:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// run measures each of stores in dir (a temporary folder when empty).
func run(rows, ingestN, queries int, stores []string, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-central-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	// PostgreSQL runs as its own user when this runs as root: it must be
	// able to reach its folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	var pg *pgtest.Server
	if slices.Contains(stores, "postgres") {
		var err error
		if pg, err = pgtest.StartDir(filepath.Join(dir, "pg"), pgtest.Options{Durable: true,
			Settings: map[string]string{"shared_buffers": "256MB", "max_wal_size": "4GB", "jit": "off"}}); err != nil {
			return err
		}
		defer pg.Stop()
	}
	open := opener(ctx, dir, pg)
	for _, name := range stores {
		if err := measure(ctx, name, open, rows, ingestN, queries); err != nil {
			return err
		}
	}
	return nil
}

// openFunc opens a fresh store of the named kind (sub names its SQLite
// folder), with its database handle.
type openFunc func(name, sub string) (store.Store, *sql.DB, error)

// opener returns the openFunc for SQLite under dir and PostgreSQL on pg.
func opener(ctx context.Context, dir string, pg *pgtest.Server) openFunc {
	return func(name, sub string) (store.Store, *sql.DB, error) {
		switch name {
		case "sqlite":
			s, err := sqlite.Open(ctx, filepath.Join(dir, sub))
			if err != nil {
				return nil, nil, err
			}
			return s, s.SQL, nil
		case "postgres":
			dsn, err := pg.CreateDB(ctx)
			if err != nil {
				return nil, nil, err
			}
			s, err := postgres.Open(ctx, dsn)
			if err != nil {
				return nil, nil, err
			}
			return s, s.SQL, nil
		}
		return nil, nil, fmt.Errorf("unknown store %q", name)
	}
}

// measure prints the ingest rate of store name, then loads rows events into
// a second one and prints its search times and row count.
func measure(ctx context.Context, name string, open openFunc, rows, ingestN, queries int) error {
	st, _, err := open(name, "ingest")
	if err != nil {
		return err
	}
	rate, err := ingestRate(ctx, st, ingestN)
	st.Close()
	if err != nil {
		return fmt.Errorf("%s: ingest: %w", name, err)
	}
	fmt.Printf("ingest store=%s events=%d events_per_s=%.0f\n", name, ingestN, rate)

	st, db, err := open(name, "search")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := load(ctx, name, db, rows); err != nil {
		st.Close()
		return fmt.Errorf("%s: load: %w", name, err)
	}
	n, err := st.CountEvents(ctx)
	if err != nil {
		st.Close()
		return err
	}
	fmt.Printf("load store=%s rows=%d seconds=%.0f\n", name, n, time.Since(t0).Seconds())
	if err := search(ctx, name, st, queries); err != nil {
		st.Close()
		return err
	}
	fmt.Printf("rows store=%s count=%d\n", name, n)
	st.Close()
	return nil
}

// sampleEvent is a typical entry event: credential, temperature, reasons.
func sampleEvent(seq uint64, g, holder int, at time.Time) gate.Event {
	e := gate.Event{V: 1, ID: fmt.Sprintf("%016x-%04x-%08x", at.UnixMicro(), g, seq), Seq: seq, Site: "plant-1",
		Gate: fmt.Sprintf("lane-%02d", g), Time: at, Kind: gate.KindEntry, Decision: "admitted", Reasons: []gate.Reason{},
		Holder: fmt.Sprintf("emp-%05d", holder), FaceSeen: true, Mode: gate.ModeNormal,
		Credential: &gate.Credential{Status: "green", Verified: true, Holder: fmt.Sprintf("emp-%05d", holder), Kind: "site_pass", ID: fmt.Sprintf("pass-%05d", holder), Issuer: "plant-1"},
		Reading:    &thermal.Reading{SkinC: 36.4, CoreC: 36.9, ThresholdC: 37.3, Region: "canthus", CalibrationID: "cal-1"}}
	if seq%10 == 0 {
		e.Decision, e.Reasons = "denied", []gate.Reason{gate.ReasonFever}
	}
	return e
}

type msg struct {
	topic   string
	payload []byte
	acked   *atomic.Int64
}

func (m msg) Topic() string   { return m.topic }
func (m msg) Payload() []byte { return m.payload }
func (m msg) Ack()            { m.acked.Add(1) }

// ingestRate pushes n events through the ingest's decode, validation,
// batching, commit and acknowledgement.
func ingestRate(ctx context.Context, st store.Store, n int) (float64, error) {
	in, err := ingest.New(st, ingest.Options{Brokers: []string{"tcp://unused:1"}, ClientID: "bench", BatchSize: 500})
	if err != nil {
		return 0, err
	}
	var acked atomic.Int64
	msgs := make([]ingest.Message, n)
	seqs := make([]uint64, gates)
	for i := range n {
		g := i % gates
		seqs[g]++
		b, _ := json.Marshal(sampleEvent(seqs[g], g, rand.IntN(people), start.Add(time.Duration(i)*time.Millisecond)))
		msgs[i] = msg{topic: fmt.Sprintf("gateguard/v1/plant-1/lane-%02d/event/access", g), payload: b, acked: &acked}
	}
	ch := make(chan ingest.Message, 1000)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Consume(cctx, ch) }()
	t0 := time.Now()
	for _, m := range msgs {
		ch <- m
	}
	deadline := time.Now().Add(10 * time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	for acked.Load() < int64(n) && time.Now().Before(deadline) {
		<-tick.C
	}
	tick.Stop()
	el := time.Since(t0)
	cancel()
	<-done
	if acked.Load() != int64(n) {
		return 0, fmt.Errorf("%d of %d acknowledged", acked.Load(), n)
	}
	h := in.Health()
	fmt.Printf("ingest batches=%d mean_batch=%.0f\n", h.Batches, float64(h.Committed)/float64(max(h.Batches, 1)))
	if c, _ := st.CountEvents(ctx); c != int64(n) {
		return 0, fmt.Errorf("%d of %d stored", c, n)
	}
	return float64(n) / el.Seconds(), nil
}

func pct(d []time.Duration, p float64) float64 {
	slices.Sort(d)
	return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
}

// search times the two commonest searches, first page of 100.
func search(ctx context.Context, name string, st store.Store, queries int) error {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []struct {
		name string
		f    func() store.EventFilter
	}{
		{"person_month", func() store.EventFilter {
			from := start.Add(time.Duration(rng.Int64N(int64(span - 30*24*time.Hour))))
			return store.EventFilter{Person: fmt.Sprintf("emp-%05d", rng.IntN(people)), From: from, To: from.Add(30 * 24 * time.Hour), Limit: 100}
		}},
		{"gate_day", func() store.EventFilter {
			from := start.Add(time.Duration(rng.IntN(89)) * 24 * time.Hour)
			return store.EventFilter{Gate: fmt.Sprintf("lane-%02d", rng.IntN(gates)), From: from, To: from.Add(24 * time.Hour), Limit: 100}
		}},
	}
	for _, k := range kinds {
		if ex, ok := st.(interface {
			ExplainEvents(context.Context, store.EventFilter) (string, error)
		}); ok && explain {
			plan, err := ex.ExplainEvents(ctx, k.f())
			if err != nil {
				return err
			}
			fmt.Printf("plan store=%s query=%s\n%s", name, k.name, plan)
		}
		var ds []time.Duration
		total := 0
		for i := range queries + 10 {
			f := k.f()
			t0 := time.Now()
			rows, _, err := st.Events(ctx, f)
			el := time.Since(t0)
			if err != nil {
				return err
			}
			if i >= 10 { // the first ten warm the cache
				ds = append(ds, el)
				total += len(rows)
			}
		}
		fmt.Printf("search store=%s query=%s n=%d p50_ms=%.2f p95_ms=%.2f rows_per_query=%.0f\n",
			name, k.name, queries, pct(ds, 0.5), pct(ds, 0.95), float64(total)/float64(queries))
	}
	return nil
}
