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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

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
	open := func(name, sub string) (store.Store, *sql.DB, error) {
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
	for _, name := range stores {
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
	}
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

// load bulk-generates rows events, rebuilding the secondary indexes after.
func load(ctx context.Context, name string, db *sql.DB, rows int) error {
	var idx []string
	var q string
	if name == "sqlite" {
		q = `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL`
	} else {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname <> 'events_pkey'`
	}
	r, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	var names []string
	for r.Next() {
		var n, s string
		if err := r.Scan(&n, &s); err != nil {
			return err
		}
		// pg_indexes shows a partitioned table's index as ON ONLY, which
		// would leave the partitions without it.
		names, idx = append(names, n), append(idx, strings.Replace(s, " ON ONLY ", " ON ", 1))
	}
	r.Close()
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DROP INDEX "+n); err != nil {
			return err
		}
	}
	src := newRows(rows)
	if name == "sqlite" {
		if err := loadSQLite(ctx, db, src); err != nil {
			return err
		}
	} else {
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
		if err != nil {
			return err
		}
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
