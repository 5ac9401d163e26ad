package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

const token = "test-token-0123456789"

var hash = strings.Repeat("ab", 32)

type fixture struct {
	srv *httptest.Server
	st  store.Store
}

func setup(t *testing.T, health api.Health) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	b := storetest.Base
	evs := []store.Event{
		storetest.Event("p1", "lane-1", 1, b, "alice", "admitted"),
		storetest.Event("p1", "lane-1", 2, b.Add(time.Minute), "bob", "denied", gate.ReasonFever),
		storetest.Event("p1", "lane-2", 1, b.Add(2*time.Minute), "=cmd()", "admitted"),
	}
	al := storetest.Alert("p1", "lane-1", 3, b.Add(time.Minute), "al-1", gate.AlertFever, gate.AlertNew, 1)
	al.Reading = &thermal.Reading{Snapshot: hash}
	if _, err := st.Commit(context.Background(), &store.Batch{Events: evs, Alerts: []store.Alert{al},
		Snapshots:   []store.Snapshot{{Hash: hash, Site: "p1", Gate: "lane-1", Kind: "thermal", ContentType: "image/png", Data: []byte("PNGDATA"), Time: b}},
		Quarantined: []store.QuarantineRow{{Received: b, Topic: "x", Reason: "bad", Payload: []byte("?")}}}); err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Options{Store: st, Token: token, Health: health,
		Now: func() time.Time { return b.Add(3 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, st: st}
}

func (f *fixture) do(t *testing.T, method, path, tok, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestNoTokenNoAPI(t *testing.T) {
	if _, err := api.New(api.Options{}); !errors.Is(err, api.ErrNoToken) {
		t.Fatalf("New without a token: %v", err)
	}
}

func TestAuth(t *testing.T) {
	f := setup(t, nil)
	for _, path := range []string{"/api/events", "/api/health", "/api/gates", "/api/snapshots/" + hash, "/api/events.csv"} {
		for _, tok := range []string{"", "wrong", token + "x", strings.ToUpper(token)} {
			resp, _ := f.do(t, "GET", path, tok, "")
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s with token %q: %d", path, tok, resp.StatusCode)
			}
		}
	}
	// Basic auth or a token in the query is not accepted either.
	resp, _ := f.do(t, "GET", "/api/events?access_token="+token, "", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token in query: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/events", token, ""); resp.StatusCode != 200 {
		t.Errorf("with the token: %d", resp.StatusCode)
	}
}

func TestEvents(t *testing.T) {
	f := setup(t, nil)
	cases := []struct {
		query  string
		status int
		ids    []string
		errSub string
	}{
		{"", 200, []string{"p1-lane-2-000001", "p1-lane-1-000002", "p1-lane-1-000001"}, ""},
		{"?gate=lane-1&decision=denied", 200, []string{"p1-lane-1-000002"}, ""},
		{"?person=alice", 200, []string{"p1-lane-1-000001"}, ""},
		{"?reason=fever", 200, []string{"p1-lane-1-000002"}, ""},
		{"?kind=passage", 200, []string{}, ""},
		{"?from=" + url.QueryEscape(storetest.Base.Add(time.Minute).Format(time.RFC3339)), 200, []string{"p1-lane-2-000001", "p1-lane-1-000002"}, ""},
		{"?from=yesterday", 400, nil, `from: \"yesterday\" is not an RFC 3339 time`},
		{"?limit=0", 400, nil, "limit"},
		{"?gat=lane-1", 400, nil, "gat: unknown parameter"},
		{"?cursor=zzz", 400, nil, "cursor"},
		{"?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z", 400, nil, "to: must be after from"},
	}
	for _, c := range cases {
		resp, body := f.do(t, "GET", "/api/events"+c.query, token, "")
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if c.status != 200 {
			if !strings.Contains(string(body), c.errSub) {
				t.Errorf("%s: body %s, want %q", c.query, body, c.errSub)
			}
			continue
		}
		var out struct {
			Events []store.EventRow `json:"events"`
			Next   string           `json:"next"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range out.Events {
			got = append(got, e.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.ids, ",") {
			t.Errorf("%s: %v, want %v", c.query, got, c.ids)
		}
	}
	// Keyset pagination through the API.
	var all []string
	next := ""
	for range 5 {
		q := "?limit=2"
		if next != "" {
			q += "&cursor=" + url.QueryEscape(next)
		}
		_, body := f.do(t, "GET", "/api/events"+q, token, "")
		var out struct {
			Events []store.EventRow `json:"events"`
			Next   string           `json:"next"`
		}
		_ = json.Unmarshal(body, &out)
		for _, e := range out.Events {
			all = append(all, e.ID)
		}
		if next = out.Next; next == "" {
			break
		}
	}
	if strings.Join(all, ",") != "p1-lane-2-000001,p1-lane-1-000002,p1-lane-1-000001" {
		t.Fatalf("paged: %v", all)
	}
}

func TestCSV(t *testing.T) {
	f := setup(t, nil)
	resp, body := f.do(t, "GET", "/api/events.csv?site=p1&decision=admitted", token, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "time" || recs[1][8] != "p1-lane-2-000001" || recs[2][8] != "p1-lane-1-000001" {
		t.Fatalf("csv: %v", recs)
	}
	if recs[1][7] != "'=cmd()" {
		t.Fatalf("a holder starting with = is not defused: %q", recs[1][7])
	}
	if resp, _ := f.do(t, "GET", "/api/events.csv?limit=5", token, ""); resp.StatusCode != 400 {
		t.Fatalf("csv with a limit: %d", resp.StatusCode)
	}
}

func TestAlertsAndAck(t *testing.T) {
	f := setup(t, nil)
	var out struct {
		Alerts []store.AlertRow `json:"alerts"`
	}
	_, body := f.do(t, "GET", "/api/alerts?status=open&type=fever", token, "")
	if err := json.Unmarshal(body, &out); err != nil || len(out.Alerts) != 1 || !out.Alerts[0].HasImage || out.Alerts[0].Snapshot != hash {
		t.Fatalf("open alerts: %s", body)
	}
	if resp, body := f.do(t, "GET", "/api/alerts?status=closed", token, ""); resp.StatusCode != 400 || !strings.Contains(string(body), "status") {
		t.Fatalf("bad status: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "POST", "/api/alerts/al-1/ack", token, `{"note":"x"}`); resp.StatusCode != 400 || !strings.Contains(string(body), "by:") {
		t.Fatalf("ack without by: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "POST", "/api/alerts/al-1/ack", token, `{"by":"desk","bogus":1}`); resp.StatusCode != 400 {
		t.Fatalf("ack with an unknown field: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "/api/alerts/nope/ack", token, `{"by":"desk"}`); resp.StatusCode != 404 {
		t.Fatalf("ack of an unknown alert: %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "POST", "/api/alerts/al-1/ack", token, `{"by":"desk","note":"first aid"}`); resp.StatusCode != 200 {
		t.Fatalf("ack: %d %s", resp.StatusCode, body)
	}
	out.Alerts = nil
	_, body = f.do(t, "GET", "/api/alerts?status=acknowledged", token, "")
	if err := json.Unmarshal(body, &out); err != nil || len(out.Alerts) != 1 || out.Alerts[0].AckBy != "desk" ||
		!out.Alerts[0].AckAt.Equal(storetest.Base.Add(3*time.Hour)) {
		t.Fatalf("acknowledged: %s", body)
	}
	_, body = f.do(t, "GET", "/api/alerts?status=open", token, "")
	if strings.Contains(string(body), "al-1") {
		t.Fatalf("an acknowledged alert is open: %s", body)
	}
}

func TestSnapshotGatesQuarantine(t *testing.T) {
	f := setup(t, nil)
	resp, body := f.do(t, "GET", "/api/snapshots/"+hash, token, "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || string(body) != "PNGDATA" {
		t.Fatalf("snapshot: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp, _ := f.do(t, "GET", "/api/snapshots/"+strings.Repeat("cd", 32), token, ""); resp.StatusCode != 404 {
		t.Fatalf("missing snapshot: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/snapshots/..%2f..%2fetc", token, ""); resp.StatusCode != 400 && resp.StatusCode != 404 {
		t.Fatalf("bad hash: %d", resp.StatusCode)
	}
	_, body = f.do(t, "GET", "/api/gates", token, "")
	var gs struct {
		Gates []store.GateRow `json:"gates"`
	}
	if err := json.Unmarshal(body, &gs); err != nil || len(gs.Gates) != 2 || gs.Gates[0].MaxSeq != 3 {
		t.Fatalf("gates: %s", body)
	}
	_, body = f.do(t, "GET", "/api/quarantine", token, "")
	if !strings.Contains(string(body), `"reason":"bad"`) {
		t.Fatalf("quarantine: %s", body)
	}
}

func TestHeadcountAndRoster(t *testing.T) {
	f := setup(t, nil)
	roster := "id,name,department\nalice,Alice,assembly\nbob,Bob,paint\n"
	if resp, body := f.do(t, "POST", "/api/people", token, roster); resp.StatusCode != 200 || !strings.Contains(string(body), `"imported":2`) {
		t.Fatalf("roster: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []struct{ csv, want string }{
		{"id,name\nx,y\n", `no \"department\" column`},
		{"id,name,department\n,Nobody,x\n", "line 2: id is empty"},
		{"id,name,department\na,A,x\na,B,y\n", `line 3: id \"a\" already on line 2`},
	} {
		if resp, body := f.do(t, "POST", "/api/people", token, bad.csv); resp.StatusCode != 400 || !strings.Contains(string(body), bad.want) {
			t.Errorf("roster %q: %d %s, want %q", bad.csv, resp.StatusCode, body, bad.want)
		}
	}
	_, body := f.do(t, "GET", "/api/headcount", token, "") // today is 2026-11-20 (Now)
	var hc struct {
		Date        string            `json:"date"`
		Departments []store.DeptCount `json:"departments"`
		Total       int               `json:"total"`
	}
	if err := json.Unmarshal(body, &hc); err != nil || hc.Date != "2026-11-20" || hc.Total != 2 ||
		len(hc.Departments) != 2 || hc.Departments[1] != (store.DeptCount{Department: "assembly", People: 1}) {
		t.Fatalf("headcount: %s", body)
	}
	if _, body := f.do(t, "GET", "/api/headcount?date=2026-11-21", token, ""); !strings.Contains(string(body), `"total":0`) {
		t.Fatalf("headcount of another day: %s", body)
	}
	if resp, _ := f.do(t, "GET", "/api/headcount?date=21.11.2026", token, ""); resp.StatusCode != 400 {
		t.Fatalf("bad date: %d", resp.StatusCode)
	}
}

func TestHealth(t *testing.T) {
	down := api.HealthFunc(func() (bool, any) { return false, map[string]any{"store_error": "disk full"} })
	f := setup(t, down)
	resp, body := f.do(t, "GET", "/api/health", token, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "disk full") {
		t.Fatalf("health while the ingest cannot commit: %d %s", resp.StatusCode, body)
	}
	f.st.Close()
	f2 := setup(t, nil)
	if resp, _ := f2.do(t, "GET", "/api/health", token, ""); resp.StatusCode != 200 {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	// A closed store answers 503, not 500 or a hang.
	if resp, _ := f.do(t, "GET", "/api/events", token, ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("events from a closed store: %d", resp.StatusCode)
	}
}
