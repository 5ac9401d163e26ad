package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/broker"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/pgtest"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/outbox"
)

// The central soak (make soak-central): simulated gates, each with the
// gate's own durable outbox and publisher (in this process), publish at a
// steady rate through a 3-node NATS cluster (separate processes, JetStream
// replicas 3) into gatewatch (a separate process) on PostgreSQL, while the
// harness SIGKILLs and restarts a NATS node and gatewatch. With
// STORE=sqlite gatewatch runs its embedded broker on SQLite instead, and
// every gatewatch kill is a broker kill too. At the end every event is
// counted in the store, read directly.
//
// Knobs: GATEWATCH_SOAK=1 (required), STORE=postgres|sqlite,
// GATEWATCH_SOAK_GATES (50), GATEWATCH_SOAK_RATE (events/s per gate, 10),
// GATEWATCH_SOAK_DURATION (2m), GATEWATCH_SOAK_RESULT (a file for the
// result line).
func TestSoakCentral(t *testing.T) {
	if os.Getenv("GATEWATCH_SOAK") == "" {
		t.Skip("set GATEWATCH_SOAK=1 (make soak-central)")
	}
	p := soakPlan{gates: envInt("GATEWATCH_SOAK_GATES", 50), rate: envInt("GATEWATCH_SOAK_RATE", 10),
		duration: envDuration("GATEWATCH_SOAK_DURATION", 2*time.Minute), store: os.Getenv("STORE")}
	if p.store == "" {
		p.store = "postgres"
	}
	r := runCentralSoak(t, p)
	line := r.String()
	t.Log(line)
	if out := os.Getenv("GATEWATCH_SOAK_RESULT"); out != "" {
		if err := os.WriteFile(out, []byte(line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r.lost != 0 || r.duplicates != 0 || r.stored != r.events {
		t.Errorf("soak failed: %s", line)
	}
}

type soakPlan struct {
	gates, rate int
	duration    time.Duration
	store       string // postgres or sqlite
}

type soakResult struct {
	gates                       int
	events, stored, lost        int64
	duplicates                  int64
	brokerKills, gatewatchKills int
	store                       string
}

func (r soakResult) String() string {
	return fmt.Sprintf("gates=%d events=%d stored=%d lost=%d duplicates_stored=%d broker_kills=%d gatewatch_kills=%d store=%s",
		r.gates, r.events, r.stored, r.lost, r.duplicates, r.brokerKills, r.gatewatchKills, r.store)
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil && d > 0 {
		return d
	}
	return def
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// soakGate is one simulated gate: its credentials, outbox and publisher.
type soakGate struct {
	name, password, hash string
	ob                   *outbox.Durable
	pub                  *mqtt.Publisher
}

const soakSite, soakPrefix = "soak", "gateguard/v1"

func makeSoakGates(t *testing.T, n int) []*soakGate {
	t.Helper()
	gates := make([]*soakGate, n)
	for i := range gates {
		pw, err := randomSecret()
		if err != nil {
			t.Fatal(err)
		}
		// The lowest bcrypt cost: 50 gates reconnect at once after a kill.
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		gates[i] = &soakGate{name: fmt.Sprintf("lane-%02d", i+1), password: pw, hash: string(h)}
	}
	return gates
}

// proc is a helper process (a NATS node or gatewatch) run from this test
// binary, restartable.
type proc struct {
	name string
	env  []string
	log  *os.File

	mu   sync.Mutex // guards cmd and done
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs the process and waits until it prints "ready".
func (p *proc) start() error {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSoakHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), p.env...)
	// A helper outlives nothing: it dies with the test binary, even on a
	// test timeout that skips every cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if sc.Text() == "ready" {
				once.Do(func() { close(ready) })
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-ready:
	case <-done:
		return fmt.Errorf("%s exited before it was ready (log %s)", p.name, p.log.Name())
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		return fmt.Errorf("%s not ready within 2 minutes (log %s)", p.name, p.log.Name())
	}
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// signal sends sig and waits for the process to end.
func (p *proc) signal(sig os.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-done
}

// TestSoakHelperProcess is a NATS node or gatewatch in the soak's own
// process, chosen by GATEWATCH_SOAK_ROLE; it is skipped otherwise.
func TestSoakHelperProcess(t *testing.T) {
	role := os.Getenv("GATEWATCH_SOAK_ROLE")
	if role == "" {
		t.Skip("a helper process of TestSoakCentral")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch role {
	case "node":
		var o broker.Options
		if err := json.Unmarshal([]byte(os.Getenv("GATEWATCH_SOAK_NODE")), &o); err != nil {
			t.Fatal(err)
		}
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		b, err := broker.Start(o)
		if err != nil {
			t.Fatal(err)
		}
		// Ready once JetStream is current with the cluster, which MQTT
		// sessions and QoS 1 need.
		for deadline := time.Now().Add(time.Minute); !b.JetStreamReady() && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Println("ready")
		<-ctx.Done()
		_ = b.Close()
	case "gatewatch":
		c, err := configs.LoadGatewatch(os.Getenv("GATEWATCH_SOAK_CONFIG"))
		if err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() { <-ready; fmt.Println("ready") }()
		if err := serve(ctx, c, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), ready); err != nil {
			t.Fatal(err)
		}
	}
	os.Exit(0) // no test summary on stdout
}

// soakRig is what runCentralSoak runs.
type soakRig struct {
	dir       string
	gates     []*soakGate
	nodes     []*proc
	gw        *proc
	brokers   []string // the gates' broker URLs
	dsn       string
	apiURL    string
	token     string
	recorded  []uint64 // per gate, written by its recorder
	startedAt time.Time
}

func runCentralSoak(t *testing.T, p soakPlan) soakResult {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "soak-central-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("logs and data kept in %s", dir)
		}
	})
	rig := &soakRig{dir: dir, gates: makeSoakGates(t, p.gates), recorded: make([]uint64, p.gates)}
	r := soakResult{gates: p.gates, store: p.store}
	rig.setUp(t, p)
	defer rig.tearDown()

	// MQTT keeps a message only for the subscriptions that exist when it is
	// published: the gates start once gatewatch's session is subscribed.
	if err := rig.waitIngest(ctx); err != nil {
		t.Fatal(err)
	}
	// The gates: outbox and publisher each, publishing from the start.
	pubCtx, stopPubs := context.WithCancel(ctx)
	var pubs sync.WaitGroup
	defer func() { stopPubs(); pubs.Wait() }()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := os.MkdirAll(filepath.Join(dir, "gates"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, g := range rig.gates {
		if g.ob, err = outbox.Open(filepath.Join(dir, "gates", g.name+".db"), nil); err != nil {
			t.Fatal(err)
		}
		defer g.ob.Close()
		n := len(rig.brokers)
		brokers := append(append([]string{}, rig.brokers[i%n:]...), rig.brokers[:i%n]...)
		g.pub = mqtt.New(mqtt.Options{Brokers: brokers, ClientID: "gateguard-soak-" + g.name,
			Username: soakSite + "/" + g.name, Password: g.password, Prefix: soakPrefix + "/" + soakSite + "/" + g.name,
			KeepAlive: 10 * time.Second, ConnectTimeout: 3 * time.Second, PublishTimeout: 10 * time.Second,
			RetryMin: 200 * time.Millisecond, RetryMax: 2 * time.Second, Log: quiet}, g.ob)
		pubs.Go(func() { _ = g.pub.Run(pubCtx) })
	}

	// Record at the plan's rate while the chaos runs.
	rig.startedAt = time.Now()
	var recorders sync.WaitGroup
	for i, g := range rig.gates {
		recorders.Go(func() { rig.record(i, g, p) })
	}
	r.brokerKills, r.gatewatchKills = rig.chaos(t, p)
	recorders.Wait()
	for _, n := range rig.recorded {
		r.events += int64(n)
	}
	t.Logf("recorded %d events in %v; draining", r.events, time.Since(rig.startedAt).Round(time.Second))

	// Every outbox empties (the brokers acknowledged everything), then
	// gatewatch has every gate's last event with no gap.
	dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for _, g := range rig.gates {
		if err := g.ob.WaitEmpty(dctx); err != nil {
			t.Fatalf("gate %s: outbox not drained: %d left", g.name, g.ob.Depth())
		}
	}
	if err := rig.waitStored(dctx); err != nil {
		t.Logf("waiting for the store: %v", err)
	}
	stopPubs()
	pubs.Wait()
	rig.gw.signal(syscall.SIGTERM)
	r.stored, r.lost, r.duplicates = rig.count(t, ctx, p.store)
	return r
}

// setUp starts the store, the brokers and gatewatch.
func (rig *soakRig) setUp(t *testing.T, p soakPlan) {
	t.Helper()
	ctx := context.Background()
	logFile := func(name string) *os.File {
		f, err := os.Create(filepath.Join(rig.dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	centralPW, _ := randomSecret()
	rig.token, _ = randomSecret()
	pwFile := filepath.Join(rig.dir, "central-pw")
	writeFile(t, pwFile, centralPW)
	apiPort := freeLoopbackPort(t)
	rig.apiURL = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	cfg := fmt.Sprintf("site: %s\ndata_dir: %s\napi: {listen: '127.0.0.1:%d', token_env: GATEWATCH_SOAK_TOKEN}\n",
		soakSite, filepath.Join(rig.dir, "gw"), apiPort)
	switch p.store {
	case "postgres":
		pg, err := pgtest.StartDir("", pgtest.Options{Durable: true}) // its own folder, which the postgres user can reach
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pg.Stop() })
		if rig.dsn, err = pg.CreateDB(ctx); err != nil {
			t.Fatal(err)
		}
		var gates []broker.Gate
		for _, g := range rig.gates {
			gates = append(gates, broker.Gate{Site: soakSite, Gate: g.name, Username: soakSite + "/" + g.name, PasswordHash: g.hash})
		}
		mqttPorts := []int{freeLoopbackPort(t), freeLoopbackPort(t), freeLoopbackPort(t)}
		routePorts := []int{freeLoopbackPort(t), freeLoopbackPort(t), freeLoopbackPort(t)}
		for i := range 3 {
			var routes []string
			for j, rp := range routePorts {
				if j != i {
					routes = append(routes, fmt.Sprintf("127.0.0.1:%d", rp))
				}
			}
			o := broker.Options{ServerName: fmt.Sprintf("n%d", i+1), StoreDir: filepath.Join(rig.dir, fmt.Sprintf("n%d", i+1)),
				MQTTAddr: fmt.Sprintf("127.0.0.1:%d", mqttPorts[i]), Prefix: soakPrefix, Gates: gates,
				CentralUser: centralUser, CentralPassword: centralPW, Replicas: 3, AckWait: 5 * time.Second,
				Cluster: &broker.Cluster{Name: "soak", Addr: fmt.Sprintf("127.0.0.1:%d", routePorts[i]), Routes: routes}}
			js, _ := json.Marshal(o)
			rig.nodes = append(rig.nodes, &proc{name: o.ServerName, log: logFile(o.ServerName),
				env: []string{"GATEWATCH_SOAK_ROLE=node", "GATEWATCH_SOAK_NODE=" + string(js)}})
			rig.brokers = append(rig.brokers, fmt.Sprintf("tcp://127.0.0.1:%d", mqttPorts[i]))
		}
		errs := make([]error, len(rig.nodes))
		var wg sync.WaitGroup
		for i, n := range rig.nodes { // together: JetStream needs a quorum
			wg.Go(func() { errs[i] = n.start() })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		cfg += fmt.Sprintf("store: {dsn: '%s'}\nmqtt: {brokers: [%s], client_id: gatewatch-soak, username: %s, password_file: %s, allow_insecure_password: true}\n",
			rig.dsn, strings.Join(rig.brokers, ", "), centralUser, pwFile)
	case "sqlite":
		port := freeLoopbackPort(t)
		rig.brokers = []string{fmt.Sprintf("tcp://127.0.0.1:%d", port)}
		cfg += fmt.Sprintf("broker: {enabled: true, listen: '127.0.0.1:%d'}\ngates:\n", port)
		for _, g := range rig.gates {
			cfg += fmt.Sprintf("  - {name: %s, password_hash: '%s'}\n", g.name, g.hash)
		}
	default:
		t.Fatalf("STORE=%q: want postgres or sqlite", p.store)
	}
	cfgPath := filepath.Join(rig.dir, "gatewatch.yaml")
	writeFile(t, cfgPath, cfg)
	if _, err := configs.LoadGatewatch(cfgPath); err != nil {
		t.Fatal(err)
	}
	rig.gw = &proc{name: "gatewatch", log: logFile("gatewatch"),
		env: []string{"GATEWATCH_SOAK_ROLE=gatewatch", "GATEWATCH_SOAK_CONFIG=" + cfgPath, "GATEWATCH_SOAK_TOKEN=" + rig.token}}
	if err := rig.gw.start(); err != nil {
		t.Fatal(err)
	}
}

func (rig *soakRig) tearDown() {
	rig.gw.signal(syscall.SIGTERM)
	for _, n := range rig.nodes {
		n.signal(syscall.SIGTERM)
	}
}

// record records the plan's events for gate i, as the gate does: each is
// in the outbox before the next.
func (rig *soakRig) record(i int, g *soakGate, p soakPlan) {
	tick := time.NewTicker(time.Second / time.Duration(p.rate))
	defer tick.Stop()
	end := rig.startedAt.Add(p.duration)
	for now := range tick.C {
		if now.After(end) {
			now = end
		}
		// Catch up on ticks missed while a Record (an fsync) was slow: the
		// gate records each event as it happens, whatever the disk does.
		due := uint64(now.Sub(rig.startedAt) * time.Duration(p.rate) / time.Second)
		for g.ob.LastSeq() < due {
			if !rig.recordOne(i, g) {
				break
			}
		}
		if now.Equal(end) {
			return
		}
	}
}

// recordOne records gate i's next event; false when the outbox refused it.
func (rig *soakRig) recordOne(i int, g *soakGate) bool {
	seq := g.ob.LastSeq() + 1
	ev := gate.Event{V: gate.PayloadVersion, ID: uuid.Must(uuid.NewV7()).String(), Seq: seq,
		Site: soakSite, Gate: g.name, Time: time.Now().UTC(), Kind: gate.KindEntry,
		Decision: "admitted", Reasons: []gate.Reason{gate.ReasonInsecure},
		Holder: fmt.Sprintf("person-%d", seq%500), FaceSeen: true, Mode: gate.ModeNormal}
	b, _ := json.Marshal(ev)
	if err := g.ob.Record(gate.Message{Seq: seq, ID: ev.ID, Topic: gate.TopicAccess, Payload: b}); err != nil {
		return false // counted only when recorded
	}
	rig.recorded[i] = seq
	return true
}

// chaos kills and restarts a NATS node and gatewatch during the run; it
// returns how many broker and gatewatch processes it SIGKILLed.
func (rig *soakRig) chaos(t *testing.T, p soakPlan) (brokerKills, gatewatchKills int) {
	at := func(f float64) {
		time.Sleep(time.Until(rig.startedAt.Add(time.Duration(f * float64(p.duration)))))
	}
	kill := func(pr *proc) {
		t.Logf("%5.1fs SIGKILL %s", time.Since(rig.startedAt).Seconds(), pr.name)
		pr.signal(syscall.SIGKILL)
	}
	restart := func(pr *proc) {
		t.Logf("%5.1fs start %s", time.Since(rig.startedAt).Seconds(), pr.name)
		if err := pr.start(); err != nil {
			t.Error(err) // the run goes on; the count shows what it cost
		}
	}
	if len(rig.nodes) == 0 { // sqlite: the embedded broker dies with gatewatch
		for _, f := range [][2]float64{{0.3, 0.42}, {0.7, 0.8}} {
			at(f[0])
			kill(rig.gw)
			brokerKills++
			gatewatchKills++
			at(f[1])
			restart(rig.gw)
		}
		return
	}
	at(0.25)
	kill(rig.nodes[1])
	brokerKills++
	at(0.40)
	restart(rig.nodes[1])
	at(0.45)
	kill(rig.gw)
	gatewatchKills++
	at(0.55)
	restart(rig.gw)
	at(0.65)
	kill(rig.nodes[0])
	brokerKills++
	at(0.78)
	restart(rig.nodes[0])
	at(0.85)
	kill(rig.gw)
	gatewatchKills++
	restart(rig.gw)
	return
}

// waitIngest waits until gatewatch says its ingest is connected to the
// broker (and subscribed).
func (rig *soakRig) waitIngest(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		var h struct {
			Ingest struct {
				BrokerConnected bool `json:"broker_connected"`
			} `json:"ingest"`
		}
		if err := rig.get(ctx, "/api/health", &h); err == nil && h.Ingest.BrokerConnected {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gatewatch's ingest never connected: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// get fetches an API path into v.
func (rig *soakRig) get(ctx context.Context, path string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, rig.apiURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+rig.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitStored polls gatewatch's API until every gate's last recorded event
// is stored with no gap.
func (rig *soakRig) waitStored(ctx context.Context) error {
	want := map[string]uint64{}
	for i, g := range rig.gates {
		want[g.name] = rig.recorded[i]
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last string
	for {
		done, status, err := rig.checkGates(ctx, want)
		if done {
			return nil
		}
		if err != nil {
			status = err.Error()
		}
		last = status
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func (rig *soakRig) checkGates(ctx context.Context, want map[string]uint64) (bool, string, error) {
	var body struct{ Gates []store.GateRow }
	if err := rig.get(ctx, "/api/gates", &body); err != nil {
		return false, "", err
	}
	behind := 0
	for _, g := range body.Gates {
		if w, ok := want[g.Gate]; ok && g.MaxSeq >= w && g.Missing == 0 {
			behind--
		}
	}
	behind += len(want)
	return behind == 0, fmt.Sprintf("%d of %d gates not complete", behind, len(want)), nil
}

// count reads every stored event straight from the store: stored rows, the
// recorded events missing from them, and rows that repeat a gate's
// sequence number or an event id.
func (rig *soakRig) count(t *testing.T, ctx context.Context, kind string) (stored, lost, dups int64) {
	var st store.Store
	var err error
	if kind == "postgres" {
		st, err = postgres.Open(ctx, rig.dsn)
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(rig.dir, "gw"))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]map[uint64]bool{}
	ids := map[string]bool{}
	err = st.EachEvent(ctx, store.EventFilter{Site: soakSite}, func(e store.EventRow) error {
		stored++
		if seen[e.Gate] == nil {
			seen[e.Gate] = map[uint64]bool{}
		}
		if seen[e.Gate][e.Seq] || ids[e.ID] {
			dups++
		}
		seen[e.Gate][e.Seq], ids[e.ID] = true, true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range rig.gates {
		for s := uint64(1); s <= rig.recorded[i]; s++ {
			if !seen[g.name][s] {
				lost++
			}
		}
	}
	return stored, lost, dups
}
