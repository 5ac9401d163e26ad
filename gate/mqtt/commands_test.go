package mqtt

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

var opSeed = [32]byte{7}

// cmdRig is a gate (a Publisher with a Commands server, over TLS with a
// client certificate, on the shipped broker config and ACL) and an operator.
type cmdRig struct {
	t       *testing.T
	ca      *mqtttest.CA
	broker  *mqtttest.Broker
	prefix  string
	ops     paho.Client
	results chan paho.Message
	schemas *schema.Set
	key     ed25519.PrivateKey
	nonce   uint64

	logged *lineCount

	mu    sync.Mutex // guards calls
	calls []string
}

// lineCount is a slog handler that counts the lines logged (and passes
// them on).
type lineCount struct {
	slog.Handler
	n *atomic.Int64
}

func (h lineCount) Handle(ctx context.Context, rec slog.Record) error {
	h.n.Add(1)
	return h.Handler.Handle(ctx, rec)
}

func (h lineCount) WithAttrs(as []slog.Attr) slog.Handler {
	return lineCount{h.Handler.WithAttrs(as), h.n}
}

func (h lineCount) WithGroup(g string) slog.Handler { return lineCount{h.Handler.WithGroup(g), h.n} }

func newCmdRig(t *testing.T) *cmdRig {
	ca := mqtttest.NewCA(t, "plant-1 CA")
	b := siteBroker(t, ca)
	r := &cmdRig{t: t, ca: ca, broker: b, prefix: "gateguard/v1/plant-1/lane-1", key: ed25519.NewKeyFromSeed(opSeed[:]),
		nonce: uint64(time.Now().UnixMicro())}
	var err error
	if r.schemas, err = schema.Load(); err != nil {
		t.Fatal(err)
	}
	r.connectOps()

	// The retained command is there before the gate connects.
	tok := r.ops.Publish(r.prefix+"/cmd/open", 1, true, r.sign(r.body(command.Open, "retained-1")))
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}

	gateCert := ca.Client(t, "plant-1/lane-1")
	tc, err := TLSConfig(TLSFiles{CAFile: ca.CertFile, CertFile: gateCert.CertFile, KeyFile: gateCert.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	var inner slog.Handler = slog.NewTextHandler(io.Discard, nil)
	if testing.Verbose() {
		inner = slog.Default().Handler()
	}
	r.logged = &lineCount{Handler: inner, n: new(atomic.Int64)}
	log := slog.New(r.logged)
	p := New(Options{Broker: b.URL, ClientID: "gateguard-plant-1-lane-1", TLS: tc, Prefix: r.prefix,
		KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second,
		Info: []byte(`{"v":1}`), Log: log}, outbox.NewMemory(1000))
	p.SetState([]byte(`{"v":1,"site":"plant-1","gate":"lane-1","time":"2026-11-27T12:00:00Z","mode":"normal","lane":"idle","fire_alarm":false,"devices":{},"outbox_depth":0}`))
	v, err := command.NewVerifier(command.Options{Site: "plant-1", Gate: "lane-1", Nonces: &command.MemoryNonces{},
		Operators: []command.Operator{{ID: "desk", Key: r.key.Public().(ed25519.PublicKey), Allow: []string{command.Open, command.GetState}}}})
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := p.Commands(CommandOptions{Site: "plant-1", Gate: "lane-1", Verifier: v, Log: log,
		Handler: func(_ context.Context, b *command.Body) command.Result {
			r.mu.Lock()
			r.calls = append(r.calls, b.Name+":"+b.ID)
			r.mu.Unlock()
			if b.Name == command.GetState {
				return command.Result{State: p.LastState()}
			}
			return command.Result{Event: "ev-" + b.ID}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = p.Run(ctx) })
	wg.Go(func() { _ = cmds.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func (r *cmdRig) connectOps() {
	r.ops = certClient(r.t, r.broker, r.ca, "ops-desk")
	r.results = collect(r.t, r.ops, r.prefix+"/cmd/+/result")
}

func (r *cmdRig) body(name, id string) command.Body {
	r.nonce++
	now := time.Now()
	return command.Body{ID: id, Name: name, Site: "plant-1", Gate: "lane-1", Operator: "desk", Nonce: r.nonce,
		Issued: now, Expires: now.Add(time.Minute)}
}

func (r *cmdRig) sign(b command.Body) []byte {
	p, err := command.Sign(b, r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// send publishes a command and returns its result (the next result that
// echoes id), validated against its schema.
func (r *cmdRig) send(name, id string, payload []byte) *command.Result {
	r.t.Helper()
	pub(r.t, r.ops, r.prefix+"/cmd/"+name, string(payload))
	return r.await(id)
}

func (r *cmdRig) await(id string) *command.Result {
	r.t.Helper()
	return r.awaitWithin(id, 20*time.Second)
}

// awaitWithin is await with a deadline of its own: an upper bound for a
// slow machine, not a timing assertion.
func (r *cmdRig) awaitWithin(id string, within time.Duration) *command.Result {
	r.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m := <-r.results:
			if err := r.schemas.ValidateTopic(strings.TrimPrefix(m.Topic(), r.prefix+"/"), m.Payload()); err != nil {
				r.t.Fatalf("result %s: %v", m.Payload(), err)
			}
			res, err := command.ParseResult(m.Payload())
			if err != nil {
				r.t.Fatal(err)
			}
			if res.ID == id {
				return res
			}
		case <-deadline:
			r.t.Fatalf("no result for %q", id)
		}
	}
}

// TestCommandsOverTLS sends signed and bad commands through a real
// Mosquitto (TLS, client certificates, the shipped ACL) and checks every
// result, that only authentic commands reach the handler, and that the gate
// listens again after the broker restarts.
func TestCommandsOverTLS(t *testing.T) {
	r := newCmdRig(t)
	if res := r.await("retained-1"); res.Status != command.StatusRejected || res.Reason != string(command.ReasonRetained) {
		t.Fatalf("retained command: %+v", res)
	}

	res := r.send(command.GetState, "s-1", r.sign(r.body(command.GetState, "s-1")))
	if res.Status != command.StatusOK || res.Operator != "desk" || !strings.Contains(string(res.State), `"lane":"idle"`) {
		t.Fatalf("get_state: %+v", res)
	}
	b := r.body(command.Open, "o-1")
	signed := r.sign(b)
	if res := r.send(command.Open, "o-1", signed); res.Status != command.StatusOK || res.Event != "ev-o-1" {
		t.Fatalf("open: %+v", res)
	}
	if res := r.send(command.Open, "o-1", signed); res.Reason != string(command.ReasonReplayed) {
		t.Fatalf("replay: %+v", res)
	}
	var env map[string]any
	_ = json.Unmarshal(r.sign(r.body(command.Open, "u-1")), &env)
	delete(env, "sig")
	unsigned, _ := json.Marshal(env)
	if res := r.send(command.Open, "u-1", unsigned); res.Reason != string(command.ReasonUnsigned) {
		t.Fatalf("unsigned: %+v", res)
	}
	if res := r.send(command.Reload, "p-1", r.sign(r.body(command.Reload, "p-1"))); res.Reason != string(command.ReasonNotPermitted) {
		t.Fatalf("reload by a key without it: %+v", res)
	}
	big := fmt.Appendf(nil, `{"v":1,"pad":"%s"}`, strings.Repeat("x", 5000))
	pub(t, r.ops, r.prefix+"/cmd/open", string(big))
	if res := r.await(""); res.Reason != string(command.ReasonOversized) {
		t.Fatalf("oversized: %+v", res)
	}

	// The broker restarts: the gate subscribes again on reconnect.
	r.broker.Restart(t)
	r.connectOps() // the test's operator client does not reconnect by itself
	// The retained command is rejected again on the new connection (the
	// broker persists it); a fresh one works once the gate has subscribed
	// again. A command sent before that reaches nobody, so send until one
	// is answered.
	deadline := time.Now().Add(30 * time.Second)
	for i, answered := 0, false; !answered; i++ {
		id := fmt.Sprintf("s-after-%d", i)
		pub(t, r.ops, r.prefix+"/cmd/get_state", string(r.sign(r.body(command.GetState, id))))
		wait := time.After(2 * time.Second)
		for !answered {
			var m paho.Message
			select {
			case m = <-r.results:
			case <-wait:
			}
			if m == nil {
				break
			}
			res, err := command.ParseResult(m.Payload())
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case res.ID == "retained-1" && res.Reason == string(command.ReasonRetained):
			case strings.HasPrefix(res.ID, "s-after-") && res.Status == command.StatusOK:
				answered = true
			default:
				t.Fatalf("after restart: %s", m.Payload())
			}
		}
		if !answered && time.Now().After(deadline) {
			t.Fatal("the gate did not listen for commands again after the broker restarted")
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) < 3 || r.calls[0] != "get_state:s-1" || r.calls[1] != "open:o-1" {
		t.Errorf("handler calls %v: only authentic commands may reach it, once each", r.calls)
	}
	for _, c := range r.calls[2:] {
		if !strings.HasPrefix(c, "get_state:s-after-") {
			t.Errorf("unexpected handler call %s", c)
		}
	}
}

// TestCommandFlood: 10,000 badly signed QoS 0 commands, with a valid
// get_state in the middle, do not keep the valid one from its result, and
// cost a bounded number of log lines (the first rejection of a reason, then
// counts in the per-minute summary), not one each.
func TestCommandFlood(t *testing.T) {
	r := newCmdRig(t)
	r.await("retained-1")
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	junk, err := command.Sign(r.body(command.GetState, "junk"), other) // claims to be desk
	if err != nil {
		t.Fatal(err)
	}
	// The gate verifies the 5,000 junk commands before the valid one, ~40 µs
	// each, but far slower under -race on a loaded machine: give it time.
	vb := r.body(command.GetState, "valid-1")
	vb.Expires = vb.Issued.Add(5 * time.Minute)
	valid := r.sign(vb)
	topic := r.prefix + "/cmd/" + command.GetState
	before := r.logged.n.Load()
	var last paho.Token
	for i := range 10_000 {
		if i == 5_000 {
			// QoS 1, as `gateguard command` sends it: a broker may drop
			// QoS 0 messages to a subscriber that is behind (Mosquitto
			// does, under load), and then no gate could answer.
			r.ops.Publish(topic, 1, false, valid)
		}
		last = r.ops.Publish(topic, 0, false, junk)
	}
	if !last.WaitTimeout(time.Minute) || last.Error() != nil {
		t.Fatalf("flood: %v", last.Error())
	}
	res := r.awaitWithin("valid-1", 3*time.Minute)
	if res.Status != command.StatusOK || !strings.Contains(string(res.State), `"lane":"idle"`) {
		t.Fatalf("the valid command in the flood: %+v", res)
	}
	if n := r.logged.n.Load() - before; n > 10 {
		t.Errorf("the flood logged %d lines, want at most 10", n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) != 1 || r.calls[0] != "get_state:valid-1" {
		t.Errorf("handler calls %v, want only the valid one", r.calls)
	}
}
