package console

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
)

// postBody posts form as htmx does and returns the status and the body.
func postBody(t *testing.T, cl *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestCommandCarriesReason: the admin's override reason (and a reason given
// with a plain command) goes into the signed command's args; a reason the
// gate would reject is refused with a message saying what is wrong, and
// nothing is sent.
func TestCommandCarriesReason(t *testing.T) {
	f := newFixture(t)
	ac := f.mustLogin("ada")
	why := "ambulance crew: patient rechecked 36.9 °C"
	if st, body := postBody(t, ac, f.srv.URL+"/gates/p1/lane-1/open", url.Values{"override": {"1"}, "reason": {"  " + why + " "}}); st != http.StatusOK {
		t.Fatalf("override with a reason: %d %s", st, body)
	}
	if st, body := postBody(t, ac, f.srv.URL+"/gates/p1/lane-1/set_mode", url.Values{"mode": {"maintenance"}, "reason": {"cleaning the lane"}}); st != http.StatusOK {
		t.Fatalf("set_mode with a reason: %d %s", st, body)
	}
	if len(f.cmd.sent) != 2 || !f.cmd.sent[0].Args.Override || f.cmd.sent[0].Args.Reason != why || f.cmd.sent[1].Args.Reason != "cleaning the lane" {
		t.Fatalf("sent %+v, want the override with its reason, then set_mode with its reason", f.cmd.sent)
	}
	for _, tt := range []struct {
		name, reason, want string
	}{
		{"too long", strings.Repeat("因", command.MaxReason+1), T("en", "gates.reason.too_long", command.MaxReason+1, command.MaxReason)},
		{"control character", "fine\x1b[2Jforged", T("en", "gates.reason.control")},
		{"bidi override", "ok \u202edesrever", T("en", "gates.reason.control")},
	} {
		st, body := postBody(t, ac, f.srv.URL+"/gates/p1/lane-1/open", url.Values{"override": {"1"}, "reason": {tt.reason}})
		if st != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tt.want) {
			t.Errorf("%s: %d %q, want 400 saying %q", tt.name, st, body, tt.want)
		}
	}
	if len(f.cmd.sent) != 2 {
		t.Fatalf("a refused reason was sent: %+v", f.cmd.sent[2:])
	}
}

// TestLogShowsOperatorReason: the reason the gate recorded in a remote
// event (operator_reason) is in the Log beside the operator, and in its
// CSV export.
func TestLogShowsOperatorReason(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	why := "clinic rechecked: 36.9 °C"
	ev := gate.Event{V: 1, ID: "ev-r1", Seq: 1, Site: "p1", Gate: "lane-1", Time: now, Kind: gate.KindRemoteOpen, Decision: "opened",
		Reasons: []gate.Reason{gate.ReasonRemoteOpen, gate.ReasonOverride}, Mode: gate.ModeNormal,
		Operator: "console", Request: "ada.0a1b", OperatorReason: why}
	raw, _ := json.Marshal(ev)
	if _, err := f.st.Commit(context.Background(), &store.Batch{Events: []store.Event{{Event: ev, Raw: raw, Received: now}}}); err != nil {
		t.Fatal(err)
	}
	cl := f.mustLogin("gus")
	_, page := get(t, cl, f.srv.URL+"/log?kind=remote_open")
	if !strings.Contains(html.UnescapeString(page), `console ada.0a1b <q class="why">`+why+`</q>`) {
		t.Errorf("the log does not show the operator's reason:\n%s", page)
	}
	resp, err := cl.Get(f.srv.URL + "/log.csv?kind=remote_open")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv %v %v", rows, err)
	}
	col := -1
	for i, h := range rows[0] {
		if h == "operator_reason" {
			col = i
		}
	}
	if col < 0 || rows[1][col] != why {
		t.Errorf("csv header %v row %v: want operator_reason %q", rows[0], rows[1], why)
	}
}
