// Package storetest is the conformance suite every gatewatch store passes:
// one table of behaviours, run over SQLite and PostgreSQL alike.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// Base is the time the suite's events happen around.
var Base = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// Event returns a received access event with its JSON as the gate sends it.
func Event(site, g string, seq uint64, at time.Time, holder, decision string, reasons ...gate.Reason) store.Event {
	e := gate.Event{V: gate.PayloadVersion, ID: fmt.Sprintf("%s-%s-%06d", site, g, seq), Seq: seq, Site: site, Gate: g,
		Time: at.UTC(), Kind: gate.KindEntry, Decision: decision, Reasons: reasons, Holder: holder, Mode: gate.ModeNormal}
	if e.Reasons == nil {
		e.Reasons = []gate.Reason{}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return store.Event{Event: e, Raw: raw, Received: at.Add(time.Second).UTC()}
}

// Alert returns a received alert message.
func Alert(site, g string, seq uint64, at time.Time, alertID, typ, state string, count int) store.Alert {
	a := gate.Alert{V: gate.PayloadVersion, ID: fmt.Sprintf("%s-%s-a%06d", site, g, seq), AlertID: alertID, Seq: seq,
		Site: site, Gate: g, Time: at.UTC(), Type: typ, State: state, Severity: "warning", Message: typ + " " + state,
		Holder: "alice", Count: count}
	raw, err := json.Marshal(a)
	if err != nil {
		panic(err)
	}
	return store.Alert{Alert: a, Raw: raw, Received: at.Add(time.Second).UTC()}
}

// Open makes a new, empty store for one test.
type Open func(t *testing.T) store.Store

// Run runs every behaviour against stores made by open.
func Run(t *testing.T, open Open) {
	for _, tc := range behaviours {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.run(t, context.Background(), s)
		})
	}
}

var behaviours = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, s store.Store)
}{
	{"replay stored once", replay},
	{"duplicate inside one batch", dupInBatch},
	{"gaps recorded until filled", gaps},
	{"alert lifecycle merged by alert_id", alertLifecycle},
	{"alert end before new", alertOutOfOrder},
	{"alert acknowledgement", alertAck},
	{"gate table from retained messages", gateTable},
	{"snapshots by hash", snapshots},
	{"quarantine", quarantine},
	{"event filters", filters},
	{"keyset pagination", pagination},
	{"headcount per department", headcount},
	{"retention", retention},
	{"commit is atomic", atomic},
	{"enrolments", enrolments},
	{"enrolment pushes", enrolmentPushes},
}

func commit(t *testing.T, ctx context.Context, s store.Store, b *store.Batch) store.CommitResult {
	t.Helper()
	r, err := s.Commit(ctx, b)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return r
}

func gateRow(t *testing.T, ctx context.Context, s store.Store, site, g string) store.GateRow {
	t.Helper()
	gs, err := s.Gates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range gs {
		if r.Site == site && r.Gate == g {
			return r
		}
	}
	t.Fatalf("gate %s/%s not in %+v", site, g, gs)
	return store.GateRow{}
}

func count(t *testing.T, ctx context.Context, s store.Store) int64 {
	t.Helper()
	n, err := s.CountEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func replay(t *testing.T, ctx context.Context, s store.Store) {
	var evs []store.Event
	for i := uint64(1); i <= 3; i++ {
		evs = append(evs, Event("p1", "lane-1", i, Base.Add(time.Duration(i)*time.Minute), "alice", "admitted"))
	}
	if r := commit(t, ctx, s, &store.Batch{Events: evs}); r.Events != 3 || r.DuplicateEvents != 0 {
		t.Fatalf("first commit: %+v", r)
	}
	replayed := append([]store.Event(nil), evs...)
	replayed = append(replayed, Event("p1", "lane-1", 4, Base.Add(4*time.Minute), "bob", "admitted"))
	for i := range replayed[:3] {
		replayed[i].Replayed = true
	}
	if r := commit(t, ctx, s, &store.Batch{Events: replayed}); r.Events != 1 || r.DuplicateEvents != 3 {
		t.Fatalf("replay commit: %+v, want 1 new and 3 duplicates", r)
	}
	if n := count(t, ctx, s); n != 4 {
		t.Fatalf("stored %d events, want 4", n)
	}
	g := gateRow(t, ctx, s, "p1", "lane-1")
	if g.Duplicates != 3 || g.MaxSeq != 4 || len(g.Gaps) != 0 {
		t.Fatalf("gate after replay: %+v", g)
	}
}

func dupInBatch(t *testing.T, ctx context.Context, s store.Store) {
	e := Event("p1", "lane-1", 1, Base, "alice", "admitted")
	r := commit(t, ctx, s, &store.Batch{Events: []store.Event{e, e}})
	if r.Events != 1 || r.DuplicateEvents != 1 || count(t, ctx, s) != 1 {
		t.Fatalf("commit of an event twice: %+v", r)
	}
}

func gaps(t *testing.T, ctx context.Context, s store.Store) {
	at := func(seq uint64) store.Event {
		return Event("p1", "lane-2", seq, Base.Add(time.Duration(seq)*time.Second), "alice", "admitted")
	}
	steps := []struct {
		seqs    []uint64
		want    []store.Gap
		missing uint64
	}{
		{[]uint64{1, 2, 6}, []store.Gap{{First: 3, Last: 5}}, 3},
		{[]uint64{4}, []store.Gap{{First: 3, Last: 3}, {First: 5, Last: 5}}, 2},
		{[]uint64{9}, []store.Gap{{First: 3, Last: 3}, {First: 5, Last: 5}, {First: 7, Last: 8}}, 4},
		{[]uint64{3, 5, 7, 8}, []store.Gap{}, 0},
	}
	for i, st := range steps {
		var evs []store.Event
		for _, q := range st.seqs {
			evs = append(evs, at(q))
		}
		commit(t, ctx, s, &store.Batch{Events: evs})
		g := gateRow(t, ctx, s, "p1", "lane-2")
		if !slices.Equal(g.Gaps, st.want) || g.Missing != st.missing {
			t.Fatalf("step %d (seqs %v): gaps %v missing %d, want %v missing %d", i, st.seqs, g.Gaps, g.Missing, st.want, st.missing)
		}
	}
	// Alerts share the gate's sequence.
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{Alert("p1", "lane-2", 11, Base.Add(time.Hour), "x", gate.AlertFever, gate.AlertNew, 1)}})
	if g := gateRow(t, ctx, s, "p1", "lane-2"); !slices.Equal(g.Gaps, []store.Gap{{First: 10, Last: 10}}) || g.MaxSeq != 11 {
		t.Fatalf("after alert seq 11: %+v", g)
	}
}

func alertLifecycle(t *testing.T, ctx context.Context, s store.Store) {
	nw := Alert("p1", "lane-1", 1, Base, "al-1", gate.AlertFever, gate.AlertNew, 1)
	nw.Reading = &thermal.Reading{Snapshot: "ab12"}
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{nw}})
	open, err := s.Alerts(ctx, store.AlertFilter{Status: store.StatusOpen})
	if err != nil || len(open) != 1 || open[0].State != gate.AlertNew || open[0].Snapshot != "ab12" {
		t.Fatalf("open alerts after new: %+v, %v", open, err)
	}
	up := Alert("p1", "lane-1", 2, Base.Add(time.Minute), "al-1", gate.AlertFever, gate.AlertUpdate, 3)
	end := Alert("p1", "lane-1", 3, Base.Add(2*time.Minute), "al-1", gate.AlertFever, gate.AlertEnd, 3)
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{up, end, up}}) // a replayed update too
	all, err := s.Alerts(ctx, store.AlertFilter{})
	if err != nil || len(all) != 1 {
		t.Fatalf("alerts: %+v, %v", all, err)
	}
	a := all[0]
	if a.State != gate.AlertEnd || !a.Ended || a.Count != 3 || a.Messages != 3 || !a.First.Equal(Base) ||
		!a.Last.Equal(Base.Add(2*time.Minute)) || a.Type != gate.AlertFever || a.Snapshot != "ab12" {
		t.Fatalf("merged alert: %+v", a)
	}
	if open, _ := s.Alerts(ctx, store.AlertFilter{Status: store.StatusOpen}); len(open) != 0 {
		t.Fatalf("an ended alert is listed open: %+v", open)
	}
	if ended, _ := s.Alerts(ctx, store.AlertFilter{Status: store.StatusEnded, Type: gate.AlertFever}); len(ended) != 1 {
		t.Fatalf("ended fever alerts: %+v", ended)
	}
	if spoof, _ := s.Alerts(ctx, store.AlertFilter{Type: gate.AlertSpoof}); len(spoof) != 0 {
		t.Fatalf("spoof alerts: %+v", spoof)
	}
	if _, err := s.Alerts(ctx, store.AlertFilter{Status: "closed"}); err == nil {
		t.Fatal("an unknown status was accepted")
	}
}

func alertOutOfOrder(t *testing.T, ctx context.Context, s store.Store) {
	end := Alert("p1", "lane-1", 3, Base.Add(2*time.Minute), "al-2", gate.AlertSpoof, gate.AlertEnd, 2)
	nw := Alert("p1", "lane-1", 1, Base, "al-2", gate.AlertSpoof, gate.AlertNew, 1)
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{end}})
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{nw}})
	all, err := s.Alerts(ctx, store.AlertFilter{})
	if err != nil || len(all) != 1 || all[0].State != gate.AlertEnd || !all[0].Ended || !all[0].First.Equal(Base) || all[0].Messages != 2 {
		t.Fatalf("alert after end then new: %+v, %v", all, err)
	}
}

func alertAck(t *testing.T, ctx context.Context, s store.Store) {
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{Alert("p1", "lane-1", 1, Base, "al-3", gate.AlertFever, gate.AlertNew, 1)}})
	at := Base.Add(5 * time.Minute)
	if err := s.Ack(ctx, "al-3", "desk", "sent to first aid", at); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, "nope", "desk", "", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ack of an unknown alert: %v, want ErrNotFound", err)
	}
	acked, err := s.Alerts(ctx, store.AlertFilter{Status: store.StatusAcknowledged})
	if err != nil || len(acked) != 1 || acked[0].AckBy != "desk" || acked[0].AckNote != "sent to first aid" || !acked[0].AckAt.Equal(at) {
		t.Fatalf("acknowledged: %+v, %v", acked, err)
	}
	if open, _ := s.Alerts(ctx, store.AlertFilter{Status: store.StatusOpen}); len(open) != 0 {
		t.Fatalf("an acknowledged alert is listed open: %+v", open)
	}
	// A later lifecycle message keeps the acknowledgement.
	commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{Alert("p1", "lane-1", 2, Base.Add(time.Hour), "al-3", gate.AlertFever, gate.AlertEnd, 1)}})
	if acked, _ := s.Alerts(ctx, store.AlertFilter{Status: store.StatusAcknowledged}); len(acked) != 1 || acked[0].AckBy != "desk" {
		t.Fatalf("acknowledgement lost on end: %+v", acked)
	}
}

func gateTable(t *testing.T, ctx context.Context, s store.Store) {
	st := func(at time.Time, mode gate.Mode, depth int, devices map[string]string) store.GateUpdate {
		return store.GateUpdate{Site: "p1", Gate: "lane-3", Received: at, State: &gate.State{V: 1, Site: "p1", Gate: "lane-3", Time: at,
			Mode: mode, Lane: "idle", Devices: devices, OutboxDepth: depth}}
	}
	info := store.GateUpdate{Site: "p1", Gate: "lane-3", Received: Base, Info: &gate.Info{V: 1, Site: "p1", Gate: "lane-3",
		Version: "1.2.3", ConfigHash: "c0ffee", CalibrationID: "cal-1", Started: Base.Add(-time.Hour)}}
	commit(t, ctx, s, &store.Batch{Gates: []store.GateUpdate{
		{Site: "p1", Gate: "lane-3", Received: Base, Availability: "online"},
		info,
		st(Base.Add(2*time.Second), gate.ModeLocked, 7, map[string]string{"camera": "ok", "thermal": "no frame for 3s"}),
		st(Base.Add(time.Second), gate.ModeNormal, 0, nil), // older, arrived later: ignored
	}})
	g := gateRow(t, ctx, s, "p1", "lane-3")
	if g.Availability != "online" || g.Mode != "locked" || g.OutboxDepth != 7 || g.Version != "1.2.3" || g.ConfigHash != "c0ffee" ||
		g.CalibrationID != "cal-1" || len(g.Faults) != 1 || g.Faults["thermal"] != "no frame for 3s" || !g.LastSeen.Equal(Base.Add(2*time.Second)) {
		t.Fatalf("gate row: %+v", g)
	}
	commit(t, ctx, s, &store.Batch{Gates: []store.GateUpdate{{Site: "p1", Gate: "lane-3", Received: Base.Add(time.Minute), Availability: "offline"}}})
	if g := gateRow(t, ctx, s, "p1", "lane-3"); g.Availability != "offline" || !g.LastSeen.Equal(Base.Add(time.Minute)) || g.Mode != "locked" {
		t.Fatalf("gate after offline: %+v", g)
	}
}

func snapshots(t *testing.T, ctx context.Context, s store.Store) {
	a := Alert("p1", "lane-1", 1, Base, "al-4", gate.AlertFever, gate.AlertNew, 1)
	a.Reading = &thermal.Reading{Snapshot: "feed"}
	png := []byte("\x89PNG\r\n\x1a\nfake")
	sn := store.Snapshot{Hash: "feed", Site: "p1", Gate: "lane-1", AlertID: "al-4", Kind: "thermal", ContentType: "image/png",
		Data: png, Time: Base, Received: Base}
	r := commit(t, ctx, s, &store.Batch{Alerts: []store.Alert{a}, Snapshots: []store.Snapshot{sn}})
	if r.Snapshots != 1 {
		t.Fatalf("commit: %+v", r)
	}
	if r := commit(t, ctx, s, &store.Batch{Snapshots: []store.Snapshot{sn}}); r.Snapshots != 0 {
		t.Fatalf("a snapshot stored twice: %+v", r)
	}
	data, ct, err := s.Snapshot(ctx, "feed")
	if err != nil || string(data) != string(png) || ct != "image/png" {
		t.Fatalf("snapshot: %q %q %v", data, ct, err)
	}
	if _, _, err := s.Snapshot(ctx, "beef"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing snapshot: %v", err)
	}
	al, _ := s.Alerts(ctx, store.AlertFilter{})
	if len(al) != 1 || !al[0].HasImage || al[0].Snapshot != "feed" {
		t.Fatalf("alert's image link: %+v", al)
	}
}

func quarantine(t *testing.T, ctx context.Context, s store.Store) {
	q := store.QuarantineRow{Received: Base, Topic: "gateguard/v1/p1/lane-1/event/access", Reason: "schema: missing id", Payload: []byte(`{"v":1}`)}
	if r := commit(t, ctx, s, &store.Batch{Quarantined: []store.QuarantineRow{q}}); r.Quarantined != 1 {
		t.Fatalf("commit: %+v", r)
	}
	rows, err := s.Quarantined(ctx, 10)
	if err != nil || len(rows) != 1 || rows[0].Reason != q.Reason || string(rows[0].Payload) != `{"v":1}` || rows[0].Topic != q.Topic ||
		!rows[0].Received.Equal(Base) {
		t.Fatalf("quarantined: %+v, %v", rows, err)
	}
}

func seed(t *testing.T, ctx context.Context, s store.Store) {
	t.Helper()
	evs := []store.Event{
		Event("p1", "lane-1", 1, Base, "alice", "admitted"),
		Event("p1", "lane-1", 2, Base.Add(time.Hour), "bob", "denied", gate.ReasonFever),
		Event("p1", "lane-2", 1, Base.Add(2*time.Hour), "alice", "denied", gate.ReasonNoFace, gate.ReasonCheckTimeout),
		Event("p2", "lane-1", 1, Base.Add(25*time.Hour), "carol", "admitted"),
	}
	evs[3].Kind = gate.KindPassage
	commit(t, ctx, s, &store.Batch{Events: evs})
}

func ids(rows []store.EventRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func filters(t *testing.T, ctx context.Context, s store.Store) {
	seed(t, ctx, s)
	cases := []struct {
		f    store.EventFilter
		want []string
	}{
		{store.EventFilter{}, []string{"p2-lane-1-000001", "p1-lane-2-000001", "p1-lane-1-000002", "p1-lane-1-000001"}},
		{store.EventFilter{From: Base.Add(time.Hour), To: Base.Add(2 * time.Hour)}, []string{"p1-lane-1-000002"}},
		{store.EventFilter{Gate: "lane-1"}, []string{"p2-lane-1-000001", "p1-lane-1-000002", "p1-lane-1-000001"}},
		{store.EventFilter{Site: "p1", Gate: "lane-1"}, []string{"p1-lane-1-000002", "p1-lane-1-000001"}},
		{store.EventFilter{Person: "alice"}, []string{"p1-lane-2-000001", "p1-lane-1-000001"}},
		{store.EventFilter{Decision: "denied"}, []string{"p1-lane-2-000001", "p1-lane-1-000002"}},
		{store.EventFilter{Reason: "check_timeout"}, []string{"p1-lane-2-000001"}},
		{store.EventFilter{Reason: "check"}, []string{}}, // a whole reason, not a substring
		{store.EventFilter{Reason: "%"}, []string{}},
		{store.EventFilter{Kind: gate.KindPassage}, []string{"p2-lane-1-000001"}},
		{store.EventFilter{Person: "alice", Decision: "admitted"}, []string{"p1-lane-1-000001"}},
	}
	for _, c := range cases {
		rows, next, err := s.Events(ctx, c.f)
		if err != nil || next != "" || !slices.Equal(ids(rows), c.want) {
			t.Errorf("Events(%+v) = %v next %q err %v, want %v", c.f, ids(rows), next, err, c.want)
		}
		var each []string
		if err := s.EachEvent(ctx, c.f, func(r store.EventRow) error { each = append(each, r.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if each == nil {
			each = []string{}
		}
		if !slices.Equal(each, c.want) {
			t.Errorf("EachEvent(%+v) = %v, want %v", c.f, each, c.want)
		}
	}
	rows, _, _ := s.Events(ctx, store.EventFilter{Reason: "fever"})
	if len(rows) != 1 || !slices.Equal(rows[0].Reasons, []string{"fever"}) || rows[0].Holder != "bob" || rows[0].Seq != 2 ||
		!rows[0].Time.Equal(Base.Add(time.Hour)) {
		t.Fatalf("row: %+v", rows)
	}
	var back gate.Event
	if err := json.Unmarshal(rows[0].Payload, &back); err != nil || back.ID != rows[0].ID {
		t.Fatalf("payload kept: %s, %v", rows[0].Payload, err)
	}
}

func pagination(t *testing.T, ctx context.Context, s store.Store) {
	var evs []store.Event
	for i := uint64(1); i <= 25; i++ {
		// Pairs share a time, so the key needs the id as a tie-breaker.
		evs = append(evs, Event("p1", "lane-1", i, Base.Add(time.Duration(i/2)*time.Second), "alice", "admitted"))
	}
	commit(t, ctx, s, &store.Batch{Events: evs})
	var got []string
	cursor := ""
	pages := 0
	for {
		rows, next, err := s.Events(ctx, store.EventFilter{Limit: 10, Cursor: cursor, Person: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(rows)...)
		if next == "" {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	var all []string
	_ = s.EachEvent(ctx, store.EventFilter{}, func(r store.EventRow) error { all = append(all, r.ID); return nil })
	if pages != 3 || len(got) != 25 || !slices.Equal(got, all) {
		t.Fatalf("%d pages, %d rows: %v\nwant %v", pages, len(got), got, all)
	}
	if _, _, err := s.Events(ctx, store.EventFilter{Cursor: "not-a-cursor"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func headcount(t *testing.T, ctx context.Context, s store.Store) {
	if _, err := s.ImportPeople(ctx, []store.Person{{ID: "alice", Name: "Alice", Department: "assembly"},
		{ID: "bob", Name: "Bob", Department: "assembly"}, {ID: "dan", Name: "Dan", Department: "paint"}}); err != nil {
		t.Fatal(err)
	}
	evs := []store.Event{
		Event("p1", "lane-1", 1, Base, "alice", "admitted"),
		Event("p1", "lane-1", 2, Base.Add(time.Hour), "alice", "admitted"), // twice: one person
		Event("p1", "lane-1", 3, Base.Add(time.Hour), "bob", "admitted"),
		Event("p1", "lane-1", 4, Base.Add(time.Hour), "dan", "denied", gate.ReasonFever), // not admitted
		Event("p1", "lane-1", 5, Base.Add(time.Hour), "visitor-7", "admitted"),           // not in the roster
		Event("p1", "lane-1", 6, Base.Add(30*time.Hour), "dan", "admitted"),              // another day
	}
	commit(t, ctx, s, &store.Batch{Events: evs})
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	got, err := s.Headcount(ctx, day, day.Add(24*time.Hour))
	want := []store.DeptCount{{Department: "", People: 1}, {Department: "assembly", People: 2}}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("headcount: %+v, %v; want %+v", got, err, want)
	}
	// A re-import moves a person.
	if _, err := s.ImportPeople(ctx, []store.Person{{ID: "bob", Name: "Bob", Department: "paint"}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Headcount(ctx, day, day.Add(24*time.Hour))
	want = []store.DeptCount{{Department: "", People: 1}, {Department: "assembly", People: 1}, {Department: "paint", People: 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("headcount after re-import: %+v, want %+v", got, want)
	}
}

func retention(t *testing.T, ctx context.Context, s store.Store) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	old := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC) // months past 90 days
	recent := now.Add(-24 * time.Hour)
	evs := []store.Event{Event("p1", "lane-1", 1, old, "alice", "admitted"), Event("p1", "lane-1", 2, recent, "alice", "admitted")}
	snaps := []store.Snapshot{
		{Hash: "old", Site: "p1", Gate: "lane-1", Kind: "thermal", ContentType: "image/png", Data: []byte("x"), Time: now.Add(-40 * 24 * time.Hour)},
		{Hash: "new", Site: "p1", Gate: "lane-1", Kind: "thermal", ContentType: "image/png", Data: []byte("y"), Time: now.Add(-20 * 24 * time.Hour)},
	}
	commit(t, ctx, s, &store.Batch{Events: evs, Snapshots: snaps,
		Alerts: []store.Alert{Alert("p1", "lane-1", 3, old, "al-old", gate.AlertFever, gate.AlertNew, 1)}})
	res, err := s.Prune(ctx, now, store.Retention{Events: 90 * 24 * time.Hour, Snapshots: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, _ := s.Events(ctx, store.EventFilter{})
	if !slices.Equal(ids(rows), []string{"p1-lane-1-000002"}) || res.Events != 1 || res.Snapshots != 1 || res.AlertMessages != 1 {
		t.Fatalf("after prune: events %v, result %+v", ids(rows), res)
	}
	if _, _, err := s.Snapshot(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old snapshot kept: %v", err)
	}
	if _, _, err := s.Snapshot(ctx, "new"); err != nil {
		t.Fatalf("recent snapshot pruned: %v", err)
	}
	if al, _ := s.Alerts(ctx, store.AlertFilter{}); len(al) != 0 {
		t.Fatalf("old alert kept: %+v", al)
	}
	// Events in a pruned month arrive again (a late replay): stored.
	commit(t, ctx, s, &store.Batch{Events: []store.Event{Event("p1", "lane-1", 7, old, "alice", "admitted")}})
}

func atomic(t *testing.T, ctx context.Context, s store.Store) {
	// A cancelled context fails the commit: nothing of the batch is kept.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Commit(cctx, &store.Batch{Events: []store.Event{Event("p1", "lane-1", 1, Base, "alice", "admitted")}})
	if err == nil {
		t.Fatal("a commit with a cancelled context succeeded")
	}
	if n := count(t, ctx, s); n != 0 {
		t.Fatalf("%d events kept from a failed commit", n)
	}
	if r := commit(t, ctx, s, &store.Batch{Events: []store.Event{Event("p1", "lane-1", 1, Base, "alice", "admitted")}}); r.Events != 1 {
		t.Fatalf("retry after a failed commit: %+v", r)
	}
}
