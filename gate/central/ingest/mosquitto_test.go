package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/ingest"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// watched signals every successful commit. With crashAt > 0, the
// ingest's context is cancelled at the crashAt-th commit holding events and
// the commit reported failed: gatewatch killed mid-stream, either before the
// batch is written (afterWrite false) or between its commit and its
// acknowledgements (afterWrite true).
type watched struct {
	store.Store
	commits chan struct{}

	mu         sync.Mutex
	crashAt    int
	afterWrite bool
	crash      context.CancelFunc
	n          int
}

func (w *watched) Commit(ctx context.Context, b *store.Batch) (store.CommitResult, error) {
	w.mu.Lock()
	if len(b.Events) > 0 {
		w.n++
	}
	crash := w.crashAt > 0 && w.n == w.crashAt && len(b.Events) > 0
	afterWrite := w.afterWrite
	w.mu.Unlock()
	if crash && !afterWrite {
		w.crash()
		return store.CommitResult{}, errors.New("killed before the commit")
	}
	r, err := w.Store.Commit(ctx, b)
	if err != nil {
		return r, err
	}
	select {
	case w.commits <- struct{}{}:
	default:
	}
	if crash {
		w.crash()
		return store.CommitResult{}, errors.New("killed before acknowledging")
	}
	return r, nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startIngest(t *testing.T, st store.Store, url string) (context.CancelFunc, <-chan struct{}) {
	t.Helper()
	in, err := ingest.New(st, ingest.Options{Brokers: []string{url}, ClientID: "gatewatch-test", BatchSize: 50, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(ctx) }()
	return cancel, done
}

// waitFor waits for commits until cond holds, failing after a minute.
func waitFor(t *testing.T, commits <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case <-commits:
		case <-time.After(2 * time.Second): // a commit notification may have been coalesced
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestKilledIngestLosesNothing: the gate's own durable outbox and publisher
// publish 400 events through a real Mosquitto; gatewatch's ingest is killed
// mid-stream (before a batch's commit, or after it but before its
// acknowledgements) and started again with the same client id: every event
// is stored exactly once and the gate shows no gap; a batch committed but
// not acknowledged comes again and is counted as duplicates.
func TestKilledIngestLosesNothing(t *testing.T) {
	for _, tc := range []struct {
		name       string
		afterWrite bool
	}{{"before commit", false}, {"after commit before ack", true}} {
		t.Run(tc.name, func(t *testing.T) { killed(t, tc.afterWrite) })
	}
}

func killed(t *testing.T, afterWrite bool) {
	const n = 400
	broker := mqtttest.Start(t, mqtttest.SessionConfig(t))
	db, err := sqlite.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &watched{Store: db, commits: make(chan struct{}, 1), crashAt: 3, afterWrite: afterWrite}
	gates := func(site, g string) store.GateRow {
		rows, err := db.Gates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Site == site && r.Gate == g {
				return r
			}
		}
		return store.GateRow{}
	}
	count := func() int64 { c, _ := db.CountEvents(context.Background()); return c }

	// A retained probe tells when the ingest's subscription is in place.
	probe := mqtttest.Connect(t, paho.NewClientOptions().AddBroker(broker.URL).SetClientID("probe"))
	probe.Publish("gateguard/v1/p1/probe/availability", 1, true, "online").Wait()
	probe.Disconnect(0)

	cancel1, done1 := startIngest(t, w, broker.URL)
	w.mu.Lock()
	w.crash = cancel1
	w.mu.Unlock()
	waitFor(t, w.commits, "the probe", func() bool { return gates("p1", "probe").Availability == "online" })

	// The gate: durable outbox and publisher, as gateguard runs them.
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	info, _ := json.Marshal(gate.Info{V: 1, Site: "p1", Gate: "lane-1", Version: "test", ConfigHash: strings.Repeat("b", 64),
		CalibrationID: "cal", Started: time.Now().UTC()})
	pub := mqtt.New(mqtt.Options{Broker: broker.URL, ClientID: "gateguard-p1-lane-1", Prefix: "gateguard/v1/p1/lane-1",
		KeepAlive: 30 * time.Second, Info: info, Log: quiet()}, ob)
	pctx, pcancel := context.WithCancel(t.Context())
	pdone := make(chan struct{})
	go func() { defer close(pdone); _ = pub.Run(pctx) }()
	defer func() { pcancel(); <-pdone }()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := range n {
		if _, err := ob.Append(func(seq uint64) gate.Message {
			id := uuid.Must(uuid.NewV7()).String()
			e := gate.Event{V: 1, ID: id, Seq: seq, Site: "p1", Gate: "lane-1", Time: at.Add(time.Duration(i) * time.Second),
				Kind: gate.KindEntry, Decision: "admitted", Reasons: []gate.Reason{}, Holder: fmt.Sprintf("p%03d", i%40), Mode: gate.ModeNormal}
			b, _ := json.Marshal(e)
			return gate.Message{ID: id, Topic: gate.TopicAccess, Payload: b}
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done1:
	case <-time.After(time.Minute):
		t.Fatal("the first ingest was not killed")
	}
	killedAt := count()
	if killedAt == 0 || killedAt >= n {
		t.Fatalf("killed after %d of %d events: not mid-stream", killedAt, n)
	}
	t.Logf("ingest killed with %d of %d events stored", killedAt, n)

	w.mu.Lock()
	w.crashAt = 0
	w.mu.Unlock()
	cancel2, done2 := startIngest(t, w, broker.URL)
	defer func() { cancel2(); <-done2 }()
	waitFor(t, w.commits, "every event", func() bool { return count() >= n })
	if c := count(); c != n {
		t.Fatalf("stored %d events, want %d", c, n)
	}
	g := gates("p1", "lane-1")
	if g.MaxSeq != n || len(g.Gaps) != 0 || (afterWrite && g.Duplicates == 0) {
		t.Fatalf("gate: max_seq %d, gaps %v, duplicates %d; want %d, none, the redelivered batch", g.MaxSeq, g.Gaps, g.Duplicates, n)
	}
	t.Logf("duplicates received and stored once: %d", g.Duplicates)
	if g.Version != "test" || g.Availability != "online" {
		t.Fatalf("gate info/availability not kept: %+v", g)
	}
	if q, _ := db.Quarantined(context.Background(), 10); len(q) != 0 {
		t.Fatalf("quarantined: %+v", q)
	}
}
