package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/console"
	"github.com/gateguard/gateguard/gate/central/ingest"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// TestConsoleSetModeEndToEnd: the console's set-mode POST, signed with
// gatewatch's operator key, goes over a real Mosquitto to the real daemon
// on simulated hardware; the gate's retained state shows the new mode, the
// gate's result comes back and the page shows it, and once the ingest has
// stored the gate's messages the Gates page shows the mode and the Log the
// mode_change event naming the console's operator and the admin's request.
func TestConsoleSetModeEndToEnd(t *testing.T) {
	broker := mqtttest.Start(t, "")
	g := newCommandsGate(t, broker.URL)
	g.addConsoleOperator(t)
	cfg, err := configs.Load(g.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := build(cfg, testLog(), parts{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	r := startDaemon(ctx, d, 10*time.Second)
	defer r.stop(t)

	key, err := readPrivateKey(filepath.Join(g.dir, "console.key"))
	if err != nil {
		t.Fatal(err)
	}
	cw := startTestConsole(ctx, t, broker.URL, key, testConsoleOpts{})
	cw.waitForGate(ctx, t, cfg.Site, cfg.Gate)
	cw.login(t, "ada")
	prefix := cfg.TopicPrefix()
	states := mqtttest.Subscribe(t, broker.URL, prefix+"/"+gate.TopicState)
	for _, mode := range []gate.Mode{gate.ModeMaintenance, gate.ModeNormal} {
		page := cw.post(t, "/gates/"+cfg.Site+"/"+cfg.Gate+"/set_mode", url.Values{"mode": {string(mode)}})
		want := cfg.Gate + ": " + console.T("en", "gates.set_mode") + " " + console.T("en", "mode."+string(mode)) +
			" — carried out by the gate (request ada."
		if !strings.Contains(page, want) || !strings.Contains(page, `class="result ok"`) {
			t.Fatalf("set_mode %s: the page shows %q, want it to contain %q", mode, page, want)
		}
		waitState(t, states, mode)
		if st := retainedState(t, broker.URL, prefix); st.Mode != mode {
			t.Fatalf("after set_mode %s the gate's retained state has mode %q", mode, st.Mode)
		}
		cw.waitPage(ctx, t, "/gates", `<dd class="mode">`+console.T("en", "mode."+string(mode))+`</dd>`)
	}
	log := cw.waitPage(ctx, t, "/log?kind=mode_change", "console ada.")
	if strings.Count(log, "console ada.") != 2 {
		t.Errorf("the log shows %d mode changes by console/ada, want 2:\n%s", strings.Count(log, "console ada."), log)
	}
	checkOverrideReason(ctx, t, cw, cfg)
}

// checkOverrideReason: the admin's override reason goes in the signed
// command; the gate records it in its remote_open event (operator_reason),
// which the ingest stores (the schema admits it) and the Log shows.
func checkOverrideReason(ctx context.Context, t *testing.T, cw *testConsole, cfg *configs.Config) {
	t.Helper()
	why := "ambulance crew: patient rechecked 36.9 °C"
	page := cw.post(t, "/gates/"+cfg.Site+"/"+cfg.Gate+"/open", url.Values{"override": {"1"}, "reason": {why}})
	if !strings.Contains(page, `class="result ok"`) {
		t.Fatalf("open with an override: the page shows %q", page)
	}
	cw.waitPage(ctx, t, "/log?kind=remote_open", `<q class="why">`+html.EscapeString(why)+`</q>`)
}

// addConsoleOperator adds gatewatch's operator key, console (open,
// set_mode, get_state, override), to the gate's config, its private key
// beside the others as console.key.
func (g *commandsGate) addConsoleOperator(t *testing.T) {
	t.Helper()
	key := filepath.Join(g.dir, "console.key")
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	g.commands += "    - id: console\n      public_key: " + strings.TrimSpace(string(pub)) +
		"\n      allow: [open, set_mode, get_state, override]\n"
	g.write(t, g.base+g.commands)
}

// testConsole is gatewatch's console as cmd/gatewatch wires it: a SQLite
// store fed by the ingest from the broker, the console over it with an
// MQTT commander signing as the console operator, behind an HTTP server,
// with the admin "ada".
type testConsole struct {
	st  *sqlite.Store
	srv *httptest.Server
	cl  *http.Client
	cmd *console.MQTTCommander
}

// testConsoleOpts are what a test adds to the console: its topic prefix
// (gateguard/v1 if empty), face enrolment, a roster.
type testConsoleOpts struct {
	prefix    string
	enrolment console.EnrolmentOptions
	people    []store.Person
}

func startTestConsole(ctx context.Context, t *testing.T, brokerURL string, key ed25519.PrivateKey, o testConsoleOpts) *testConsole {
	t.Helper()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db, err := console.OpenDB(ctx, st.SQL, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddUser(ctx, "ada", "a long enough password", console.RoleAdmin, "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportPeople(ctx, o.people); err != nil {
		t.Fatal(err)
	}
	prefix := cmp.Or(o.prefix, "gateguard/v1")
	in, err := ingest.New(st, ingest.Options{Brokers: []string{brokerURL}, ClientID: "gatewatch-e2e", Prefix: prefix, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := console.NewMQTTCommander(console.MQTTOptions{Brokers: []string{brokerURL}, ClientID: "gatewatch-e2e-console",
		Prefix: prefix, Operator: "console", Key: key, Timeout: 5 * time.Second, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Options{Store: st, DB: db, Commander: cmd, Enrolment: o.enrolment, Log: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = in.Run(runCtx) })
	wg.Go(func() { con.Run(runCtx) })
	srv := httptest.NewUnstartedServer(con)
	srv.Config.ConnContext = console.ConnContext
	srv.Start()
	t.Cleanup(func() { srv.Close(); stop(); wg.Wait(); cmd.Close(); st.Close() })
	jar, _ := cookiejar.New(nil)
	return &testConsole{st: st, srv: srv, cmd: cmd, cl: &http.Client{Jar: jar}}
}

// waitForGate sends get_state through the console's commander until the
// gate answers: the commander subscribes to results in the background
// after connecting, and the daemon subscribes to its commands after
// starting, so the first commands may go unanswered.
func (c *testConsole) waitForGate(ctx context.Context, t *testing.T, site, gateName string) {
	t.Helper()
	for i := 0; ; i++ {
		res, err := c.cmd.Send(ctx, site, gateName, command.GetState, command.Args{}, "probe-"+string(rune('a'+i)))
		if err == nil && res.Status == command.StatusOK {
			return
		}
		if i == 10 || (err != nil && !errors.Is(err, console.ErrNoResult)) {
			t.Fatalf("the gate never answered the console's get_state: %+v %v", res, err)
		}
	}
}

func (c *testConsole) login(t *testing.T, user string) {
	t.Helper()
	resp, err := c.cl.PostForm(c.srv.URL+"/login", url.Values{"username": {user}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == "/login" {
		t.Fatalf("login as %s ended on %s (%d)", user, resp.Request.URL, resp.StatusCode)
	}
}

// post sends a form as htmx does and returns the answer's body.
func (c *testConsole) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	return c.do(t, req)
}

func (c *testConsole) do(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := c.cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitPage gets path until its page contains want (the ingest stores what
// the gate published in batches, after the command's result came back)
// and returns the page; it fails t after 20 s or when ctx ends first.
func (c *testConsole) waitPage(ctx context.Context, t *testing.T, path, want string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.URL+path, nil)
		page := c.do(t, req)
		if strings.Contains(page, want) {
			return page
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never showed %q; last page:\n%s", path, want, page)
		case <-tick.C:
		}
	}
}

// waitState reads the gate's state messages until one has mode m: the
// gate publishes its state (retained) when the mode changes, separately
// from the command's result.
func waitState(t *testing.T, states *mqtttest.Subscriber, m gate.Mode) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case msg := <-states.C:
			var st gate.State
			if err := json.Unmarshal(msg.Payload, &st); err != nil {
				t.Fatalf("state %s: %v", msg.Payload, err)
			}
			if st.Mode == m {
				return
			}
		case <-timeout:
			t.Fatalf("the gate published no state with mode %s", m)
		}
	}
}

// retainedState is the gate's retained state message as a new subscriber
// gets it from the broker.
func retainedState(t *testing.T, brokerURL, prefix string) gate.State {
	t.Helper()
	sub := mqtttest.Subscribe(t, brokerURL, prefix+"/"+gate.TopicState)
	select {
	case m := <-sub.C:
		var st gate.State
		if !m.Retained {
			t.Fatalf("the first state message is not the retained one: %s", m.Payload)
		}
		if err := json.Unmarshal(m.Payload, &st); err != nil {
			t.Fatalf("state %s: %v", m.Payload, err)
		}
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("no retained state on " + prefix + "/" + gate.TopicState)
	}
	return gate.State{}
}
