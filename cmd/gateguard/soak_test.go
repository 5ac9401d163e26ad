package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// execEnv, when set in the environment, makes the test binary run the
// gateguard command line it holds instead of the tests: the delivery tests
// run the daemon's synth subcommand as a separate process they can SIGKILL.
const execEnv = "GATEGUARD_TEST_EXEC"

func TestMain(m *testing.M) {
	if args := os.Getenv(execEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args))
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateguard:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// soakPlan is one delivery run: events recorded at rate per second while
// the broker is stopped and restarted and the daemon is SIGKILLed and
// restarted, spread evenly over the stream.
type soakPlan struct {
	events         uint64
	rate           int
	brokerRestarts int
	kills          int
}

type soakResult struct {
	events, delivered, lost, duplicates, outOfOrder int
	conflicts, replayed                             int
	brokerRestarts, kills                           int
}

func (r soakResult) String() string {
	return fmt.Sprintf("events=%d delivered=%d lost=%d duplicates=%d out_of_order=%d broker_restarts=%d daemon_kills=%d",
		r.events, r.delivered, r.lost, r.duplicates, r.outOfOrder, r.brokerRestarts, r.kills)
}

// TestDeliveryAcrossRestartsAndKill is the short delivery proof run by make
// test: a few hundred events, one broker restart, one SIGKILL of the daemon.
func TestDeliveryAcrossRestartsAndKill(t *testing.T) {
	r := runSoak(t, soakPlan{events: 400, rate: 400, brokerRestarts: 1, kills: 1})
	t.Log(r)
	checkSoak(t, r)
}

// TestSoakMQTT is make soak-mqtt: at least 10,000 events, the broker
// restarted 6 times and the daemon killed twice (once while the broker is
// down). It runs only when GATEGUARD_SOAK is set; the result line goes to
// GATEGUARD_SOAK_RESULT.
func TestSoakMQTT(t *testing.T) {
	if os.Getenv("GATEGUARD_SOAK") == "" {
		t.Skip("set GATEGUARD_SOAK=1 (make soak-mqtt)")
	}
	r := runSoak(t, soakPlan{events: 12000, rate: 400, brokerRestarts: 6, kills: 2})
	t.Log(r)
	if out := os.Getenv("GATEGUARD_SOAK_RESULT"); out != "" {
		if err := os.WriteFile(out, []byte(r.String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkSoak(t, r)
}

func checkSoak(t *testing.T, r soakResult) {
	t.Helper()
	if r.lost != 0 || r.delivered != r.events || r.outOfOrder != 0 || r.conflicts != 0 {
		t.Errorf("delivery failed: %v conflicts=%d", r, r.conflicts)
	}
	if r.replayed == 0 {
		t.Error("no event was marked replayed, though the broker and the daemon were restarted")
	}
}

// synthProc is one run of the daemon's synth subcommand.
type synthProc struct {
	cmd    *exec.Cmd
	done   chan error
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// soakRun holds the state shared by the harness and the daemon's output reader.
type soakRun struct {
	t        *testing.T
	plan     soakPlan
	cfgPath  string
	acked    atomic.Uint64 // highest sequence number the daemon said it recorded
	progress chan struct{}
	logs     []*syncBuffer
}

func (s *soakRun) start() *synthProc {
	t := s.t
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=synth -c %s -rate %d -until %d -drain 3m",
		execEnv, s.cfgPath, s.plan.rate, s.plan.events))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &synthProc{cmd: cmd, done: make(chan error, 1), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	s.logs = append(s.logs, p.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, ok := strings.CutPrefix(sc.Text(), "recorded ")
			if !ok {
				continue
			}
			if seq, err := strconv.ParseUint(n, 10, 64); err == nil && seq > s.acked.Load() {
				s.acked.Store(seq)
				select {
				case s.progress <- struct{}{}:
				default:
				}
			}
		}
	}()
	go func() {
		<-lines
		p.done <- cmd.Wait()
	}()
	return p
}

// waitAcked waits until the daemon has recorded seq, or it exits.
func (s *soakRun) waitAcked(p *synthProc, seq uint64) {
	s.t.Helper()
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	for s.acked.Load() < seq {
		select {
		case <-s.progress:
		case err := <-p.done:
			s.t.Fatalf("daemon exited before recording %d (at %d): %v\n%s", seq, s.acked.Load(), err, p.stderr)
		case <-timeout.C:
			s.t.Fatalf("daemon stuck at %d waiting for %d\n%s", s.acked.Load(), seq, p.stderr)
		}
	}
}

func runSoak(t *testing.T, plan soakPlan) soakResult {
	dir := t.TempDir()
	broker := mqtttest.Start(t, mqtttest.SessionConfig(t))
	const prefix = "gateguard/v1/soak/lane-1"
	central := mqtttest.ConnectCentral(t, broker.URL, "soak-central", prefix+"/event/#")
	s := &soakRun{t: t, plan: plan, cfgPath: filepath.Join(dir, "gateguard.yaml"), progress: make(chan struct{}, 1)}
	obPath := filepath.Join(dir, "outbox.db")
	writeSoakConfig(t, s.cfgPath, broker.URL, obPath)
	defer func() {
		if t.Failed() {
			for i, l := range s.logs {
				t.Logf("daemon run %d stderr:\n%s", i+1, l)
			}
		}
	}()

	res := soakResult{}
	actions := soakActions(plan)
	kill := func(p *synthProc) *synthProc {
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		res.kills++
		return s.start()
	}
	p := s.start()
	for i, a := range actions {
		s.waitAcked(p, plan.events*uint64(i+1)/uint64(len(actions)+1))
		switch a {
		case "broker", "broker+kill":
			broker.Stop()
			// Keep it down while the daemon records about half a second of events.
			s.waitAcked(p, min(s.acked.Load()+uint64(plan.rate/4), plan.events))
			if a == "broker+kill" {
				p = kill(p)
			}
			s.waitAcked(p, min(s.acked.Load()+uint64(plan.rate/4), plan.events))
			broker.StartAgain(t)
			res.brokerRestarts++
		case "kill":
			p = kill(p)
		}
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("daemon: %v\n%s", err, p.stderr)
		}
	case <-time.After(5 * time.Minute):
		t.Fatalf("daemon did not finish: recorded %d of %d", s.acked.Load(), plan.events)
	}

	n := checkSoakOutbox(t, obPath, s.acked.Load(), plan.events)
	res.events = int(n)
	countDeliveries(t, central, n, &res)
	return res
}

// writeSoakConfig writes the soak gate's config: presence credentials,
// the broker at url, the durable outbox at obPath.
func writeSoakConfig(t *testing.T, path, url, obPath string) {
	t.Helper()
	cfg := fmt.Sprintf(`site: soak
gate: lane-1
log: {level: warn}
credentials: {mode: presence}
mqtt: {enabled: true, broker: %q, client_id: gateguard-soak-lane-1, keepalive: 5s, connect_timeout: 2s, publish_timeout: 5s}
outbox: {path: %q}
`, url, obPath)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// soakActions lists the plan's disruptions, spread evenly: broker restarts
// with the kills among them. With two kills or more, the last one happens
// while the broker is down, so that the restarted daemon finds events
// recorded offline.
func soakActions(plan soakPlan) []string {
	var actions []string
	for range plan.brokerRestarts {
		actions = append(actions, "broker")
	}
	kills := plan.kills
	if kills >= 2 && plan.brokerRestarts > 0 {
		actions[len(actions)-1] = "broker+kill"
		kills--
	}
	for i := range kills {
		at := (i + 1) * len(actions) / (kills + 1)
		actions = append(actions[:at], append([]string{"kill"}, actions[at:]...)...)
	}
	return actions
}

// checkSoakOutbox checks what the outbox says was recorded — every number
// up to its LastSeq, all delivered — against the acks and the plan, and
// returns its last sequence number.
func checkSoakOutbox(t *testing.T, obPath string, acked, events uint64) uint64 {
	t.Helper()
	ob, err := outbox.Open(obPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, depth := ob.LastSeq(), ob.Depth()
	_ = ob.Close()
	if depth != 0 || n < acked || n != events {
		t.Fatalf("outbox after the run: last seq %d depth %d; daemon acknowledged %d of %d", n, depth, acked, events)
	}
	return n
}

// countDeliveries waits until the central consumer has every event 1..n,
// then counts duplicates (by event id) and order among first deliveries.
func countDeliveries(t *testing.T, central *mqtttest.Central, n uint64, res *soakResult) {
	timeout := time.NewTimer(3 * time.Minute)
	defer timeout.Stop()
	for {
		*res = tally(t, central.Messages(), n, *res)
		if res.delivered == int(n) {
			return
		}
		select {
		case <-central.Notify():
		case <-timeout.C:
			t.Errorf("central has %d of %d events", res.delivered, n)
			return
		}
	}
}

func tally(t *testing.T, msgs []mqtttest.Message, n uint64, res soakResult) soakResult {
	res.delivered, res.duplicates, res.outOfOrder, res.conflicts, res.replayed = 0, 0, 0, 0, 0
	seen := map[string]bool{}
	bySeq := map[uint64]string{}
	var last uint64
	for _, m := range msgs {
		if !strings.HasSuffix(m.Topic, "/event/access") {
			continue
		}
		var ev struct {
			ID       string `json:"id"`
			Seq      uint64 `json:"seq"`
			Replayed bool   `json:"replayed"`
		}
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			t.Fatalf("event is not JSON: %v: %s", err, m.Payload)
		}
		if seen[ev.ID] {
			res.duplicates++
			continue
		}
		seen[ev.ID] = true
		if ev.Replayed {
			res.replayed++
		}
		if ev.Seq < last {
			res.outOfOrder++
		}
		last = max(last, ev.Seq)
		if id, ok := bySeq[ev.Seq]; ok && id != ev.ID {
			res.conflicts++ // two events with one number
			continue
		}
		bySeq[ev.Seq] = ev.ID
		if ev.Seq >= 1 && ev.Seq <= n {
			res.delivered++
		}
	}
	res.lost = int(n) - res.delivered
	return res
}
