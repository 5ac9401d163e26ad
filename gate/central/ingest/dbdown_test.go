package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/central/ingest"
	"github.com/gateguard/gateguard/gate/central/store/pgtest"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// poll checks cond every 50 ms until it holds, failing after a minute.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestDatabaseDownResumes: PostgreSQL dies under a running gatewatch while
// a gate keeps publishing. Nothing is acknowledged while it is down (the
// messages wait at Mosquitto), Health says the store is failing, and when
// the database is back every event is stored, once.
func TestDatabaseDownResumes(t *testing.T) {
	broker := mqtttest.Start(t, mqtttest.SessionConfig(t))
	// The server runs with synchronous_commit off (pgtest's default): the
	// store's commits must turn it on, or a crash loses acknowledged events.
	pg := pgtest.Start(t)
	dsn, err := pg.CreateDB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := ingest.New(st, ingest.Options{Brokers: []string{broker.URL}, ClientID: "gatewatch-dbdown",
		RetryMin: 100 * time.Millisecond, RetryMax: time.Second, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Run(ctx) }()
	defer func() { cancel(); <-done }()

	gatec := mqtttest.Connect(t, paho.NewClientOptions().AddBroker(broker.URL).SetClientID("gate-dbdown"))
	defer gatec.Disconnect(0)
	count := func() int64 { n, _ := st.CountEvents(context.Background()); return n }
	publish := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			e := storetest.Event("p1", "lane-1", seq, storetest.Base.Add(time.Duration(seq)*time.Second), fmt.Sprint("p", seq%7), "admitted")
			if tok := gatec.Publish("gateguard/v1/p1/lane-1/event/access", 1, false, []byte(e.Raw)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish %d: %v", seq, tok.Error())
			}
		}
	}
	// The session exists once a retained message has come through.
	gatec.Publish("gateguard/v1/p1/lane-1/availability", 1, true, "online").Wait()
	poll(t, "the connection", func() bool { return in.Health().Committed > 0 })
	publish(1, 100)
	poll(t, "100 events", func() bool { return count() == 100 })

	if err := pg.Down(); err != nil {
		t.Fatal(err)
	}
	publish(101, 200)
	poll(t, "health to report the store", func() bool { return !in.Health().StoreOK })
	h := in.Health()
	if h.StoreError == "" || h.StoreErrorSince.IsZero() {
		t.Fatalf("health while the database is down: %+v", h)
	}
	committed := h.Committed
	if err := pg.Up(); err != nil {
		t.Fatal(err)
	}
	poll(t, "200 events after the database came back", func() bool { return count() >= 200 })
	poll(t, "every message committed", func() bool { return in.Health().Committed >= 201 })
	if n := count(); n != 200 {
		t.Fatalf("%d events stored, want 200", n)
	}
	poll(t, "health to recover", func() bool { return in.Health().StoreOK })
	if in.Health().Committed <= committed {
		t.Fatal("no commit after the database came back")
	}
	gs, err := st.Gates(context.Background())
	if err != nil || len(gs) != 1 || gs[0].MaxSeq != 200 || len(gs[0].Gaps) != 0 {
		t.Fatalf("gates: %+v, %v", gs, err)
	}
}

type testMsg struct {
	topic   string
	payload []byte
	acked   chan<- struct{}
}

func (m testMsg) Topic() string   { return m.topic }
func (m testMsg) Payload() []byte { return m.payload }
func (m testMsg) Ack()            { m.acked <- struct{}{} }

// TestPoisonMessageQuarantined: a payload PostgreSQL cannot store (a NUL
// in a string, invalid UTF-8) is quarantined instead of failing its batch
// for ever, and the events around it are stored.
func TestPoisonMessageQuarantined(t *testing.T) {
	pg := pgtest.Start(t)
	dsn, err := pg.CreateDB(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := ingest.New(st, ingest.Options{Brokers: []string{"tcp://unused:1"}, ClientID: "gw", RetryMin: 10 * time.Millisecond, Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	msgs := make(chan ingest.Message)
	done := make(chan struct{})
	go func() { defer close(done); _ = in.Consume(ctx, msgs) }()
	defer func() { cancel(); <-done }()
	acked := make(chan struct{}, 10)
	const topic = "gateguard/v1/p1/lane-1/event/access"
	e1 := storetest.Event("p1", "lane-1", 1, storetest.Base, "alice", "admitted")
	e2 := storetest.Event("p1", "lane-1", 2, storetest.Base, "al\x00ice", "admitted")
	e3 := storetest.Event("p1", "lane-1", 3, storetest.Base, "bob", "admitted")
	bad := []byte(strings.Replace(string(e3.Raw), `"holder":"bob"`, "\"holder\":\"b\xffb\"", 1))
	e4 := storetest.Event("p1", "lane-1", 4, storetest.Base, "carol", "admitted")
	for _, p := range [][]byte{e1.Raw, e2.Raw, bad, e4.Raw} {
		msgs <- testMsg{topic: topic, payload: p, acked: acked}
	}
	for i := range 4 {
		select {
		case <-acked:
		case <-time.After(time.Minute):
			t.Fatalf("%d of 4 acknowledged: a poison message blocks its batch (health %+v)", i, in.Health())
		}
	}
	if n, _ := st.CountEvents(context.Background()); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
	q, err := st.Quarantined(context.Background(), 10)
	if err != nil || len(q) != 2 {
		t.Fatalf("quarantined: %+v, %v", q, err)
	}
}
