package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/outbox"
)

const prefix = "gateguard/v1"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// testGates are gates a and b of site s, with passwords pw-a and pw-b.
func testGates(t *testing.T) []Gate {
	return []Gate{
		{Site: "s", Gate: "a", Username: "s/a", PasswordHash: hash(t, "pw-a")},
		{Site: "s", Gate: "b", Username: "s/b", PasswordHash: hash(t, "pw-b")},
	}
}

func start(t *testing.T, o Options) *Broker {
	t.Helper()
	b, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func options(t *testing.T, dir string) Options {
	return Options{ServerName: "gw-test", StoreDir: dir, Prefix: prefix, Gates: testGates(t),
		CentralUser: "gatewatch", CentralPassword: "central-pw", AckWait: 2 * time.Second, Log: quiet}
}

// collector is a subscriber that keeps what it receives.
type collector struct {
	client paho.Client
	notify chan struct{}
	mu     sync.Mutex // guards msgs
	msgs   []paho.Message
}

func (c *collector) handle(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *collector) messages() []paho.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]paho.Message(nil), c.msgs...)
}

// waitUntil waits until ok holds for what c received.
func (c *collector) waitUntil(t *testing.T, what string, ok func([]paho.Message) bool) {
	t.Helper()
	timeout := time.After(time.Minute)
	for !ok(c.messages()) {
		select {
		case <-c.notify:
		case <-timeout:
			t.Fatalf("never received %s", what)
		}
	}
}

// connect connects a client; persistent makes it a central consumer (fixed
// id, clean session false, reconnecting).
func connect(t *testing.T, url, id, user, pw string, persistent bool) (*collector, error) {
	t.Helper()
	c := &collector{notify: make(chan struct{}, 1)}
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername(user).SetPassword(pw).
		SetCleanSession(!persistent).SetOrderMatters(true).SetAutoReconnect(persistent).
		SetConnectRetry(false).SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectTimeout(5 * time.Second).SetDefaultPublishHandler(c.handle)
	c.client = paho.NewClient(o)
	if tok := c.client.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("connect %s: %v", user, tok.Error())
	}
	t.Cleanup(func() { c.client.Disconnect(100) })
	return c, nil
}

func mustConnect(t *testing.T, url, id, user, pw string, persistent bool) *collector {
	t.Helper()
	c, err := connect(t, url, id, user, pw, persistent)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *collector) subscribe(t *testing.T, filter string) error {
	t.Helper()
	tok := c.client.Subscribe(filter, 1, c.handle)
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatalf("subscribe %s: no SUBACK", filter)
	}
	if err := tok.Error(); err != nil {
		return err
	}
	if st := tok.(*paho.SubscribeToken); st.Result()[filter] >= 0x80 {
		return fmt.Errorf("subscribe %s refused", filter)
	}
	return nil
}

// seqs returns the distinct event sequence numbers among msgs.
func seqs(t *testing.T, msgs []paho.Message) map[uint64]bool {
	t.Helper()
	got := map[uint64]bool{}
	for _, m := range msgs {
		var ev gate.Event
		if err := json.Unmarshal(m.Payload(), &ev); err != nil {
			t.Fatalf("%s: %v", m.Topic(), err)
		}
		got[ev.Seq] = true
	}
	return got
}

func record(t *testing.T, ob *outbox.Durable, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		ev := gate.Event{V: 1, ID: fmt.Sprintf("ev-%d", seq), Seq: seq, Site: "s", Gate: "a", Kind: gate.KindEntry, Reasons: []gate.Reason{}}
		b, _ := json.Marshal(ev)
		if err := ob.Record(gate.Message{Seq: seq, ID: ev.ID, Topic: gate.TopicAccess, Payload: b}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGateDeliversAcrossRestart runs the gate's own publisher and durable
// outbox against the embedded broker, with gatewatch's persistent session
// as the consumer, and restarts the broker (same store) mid-stream with
// events recorded while it is down: every event arrives.
func TestGateDeliversAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	o := options(t, filepath.Join(dir, "js"))
	b := start(t, o)
	o.MQTTAddr = b.URL()[len("tcp://"):] // the same port after the restart
	central := mustConnect(t, b.URL(), "gatewatch", "gatewatch", "central-pw", true)
	if err := central.subscribe(t, prefix+"/+/+/event/#"); err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	p := mqtt.New(mqtt.Options{Broker: b.URL(), ClientID: "gateguard-s-a", Username: "s/a", Password: "pw-a",
		Prefix: prefix + "/s/a", KeepAlive: 5 * time.Second, ConnectTimeout: 2 * time.Second,
		PublishTimeout: 5 * time.Second, RetryMin: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond, Log: quiet}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	const n = 1000
	record(t, ob, 1, n/2)
	central.waitUntil(t, "the first events", func(m []paho.Message) bool { return len(m) >= n/10 })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	record(t, ob, n/2+1, n) // while the broker is down
	b = start(t, o)
	t.Logf("restarted in %v", time.Since(t0))
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if err := ob.WaitEmpty(wctx); err != nil {
		t.Fatalf("outbox not drained: %v (depth %d)", err, ob.Depth())
	}
	t.Logf("drained at %v", time.Since(t0))
	central.waitUntil(t, fmt.Sprintf("all %d events", n), func(m []paho.Message) bool { return len(seqs(t, m)) == n })
	t.Logf("%d events delivered across a broker restart, %d messages received", n, len(central.messages()))
}

func pub(t *testing.T, c *collector, topic, payload string) error {
	t.Helper()
	tok := c.client.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		return fmt.Errorf("publish %s: no PUBACK", topic)
	}
	return tok.Error()
}

// TestGatesConfinedToTheirPrefix checks the generated permissions on a
// real embedded broker: gate a cannot publish under gate b's prefix (nor
// forge a command on its own cmd topic) and cannot read b's commands;
// gatewatch reads everything and sends commands; wrong passwords and
// unknown users are refused.
func TestGatesConfinedToTheirPrefix(t *testing.T) {
	b := start(t, options(t, t.TempDir()))
	const root = prefix + "/s/"
	central := mustConnect(t, b.URL(), "gatewatch", "gatewatch", "central-pw", false)
	if err := central.subscribe(t, prefix+"/#"); err != nil {
		t.Fatal(err)
	}
	gateA := mustConnect(t, b.URL(), "gateguard-s-a", "s/a", "pw-a", false)

	// Publishing: every attempt outside a's own topics is dropped; a's own
	// event, sent last, is the first thing gatewatch sees.
	for _, rel := range []string{"b/availability", "b/info", "b/state", "b/event/access", "b/event/alert",
		"b/snapshot/" + fmt.Sprintf("%064x", 1), "b/cmd/open/result", "b/cmd/open", "a/cmd/open", "a/debug"} {
		_ = pub(t, gateA, root+rel, "forged") // refused: dropped, or the connection closed
		if !gateA.client.IsConnectionOpen() {
			gateA = mustConnect(t, b.URL(), "gateguard-s-a", "s/a", "pw-a", false)
		}
	}
	for _, rel := range []string{"event/access", "availability", "info", "state", "event/alert",
		"snapshot/" + fmt.Sprintf("%064x", 2), "cmd/open/result"} {
		if err := pub(t, gateA, root+"a/"+rel, "own"); err != nil {
			t.Fatalf("gate a's own %s: %v", rel, err)
		}
	}
	central.waitUntil(t, "gate a's own messages", func(m []paho.Message) bool { return len(m) >= 7 })
	for i, m := range central.messages() {
		if string(m.Payload()) != "own" {
			t.Errorf("message %d: gatewatch received %s %q: gate a published outside its own topics", i, m.Topic(), m.Payload())
		}
	}

	// Reading: a's subscription to b's commands is refused (or gets
	// nothing); a gets its own command, which gatewatch may send.
	_ = gateA.subscribe(t, root+"b/cmd/+")
	if !gateA.client.IsConnectionOpen() {
		gateA = mustConnect(t, b.URL(), "gateguard-s-a", "s/a", "pw-a", false)
	}
	if err := gateA.subscribe(t, root+"a/cmd/+"); err != nil {
		t.Fatalf("gate a cannot subscribe to its own commands: %v", err)
	}
	if err := pub(t, central, root+"b/cmd/open", "for b"); err != nil {
		t.Fatal(err)
	}
	if err := pub(t, central, root+"a/cmd/open", "for a"); err != nil {
		t.Fatal(err)
	}
	gateA.waitUntil(t, "its own command", func(m []paho.Message) bool { return len(m) >= 1 })
	for _, m := range gateA.messages() {
		if m.Topic() != root+"a/cmd/open" {
			t.Errorf("gate a read %s %q", m.Topic(), m.Payload())
		}
	}

	// Authentication.
	for _, c := range []struct{ user, pw string }{{"s/a", "pw-b"}, {"s/c", "pw-a"}, {"gatewatch", "guess"}, {"", ""}} {
		if _, err := connect(t, b.URL(), "intruder", c.user, c.pw, false); err == nil {
			t.Errorf("user %q with password %q connected", c.user, c.pw)
		}
	}
}

// TestSetGates replaces the gate list on a running broker: a gate added
// connects at once, a gate removed is refused, the others are unaffected.
func TestSetGates(t *testing.T) {
	o := options(t, t.TempDir())
	b := start(t, o)
	if _, err := connect(t, b.URL(), "gateguard-s-c", "s/c", "pw-c", false); err == nil {
		t.Fatal("gate c connected before it was added")
	}
	gates := append(o.Gates[1:], Gate{Site: "s", Gate: "c", Username: "s/c", PasswordHash: hash(t, "pw-c")})
	if err := b.SetGates(gates); err != nil {
		t.Fatal(err)
	}
	c := mustConnect(t, b.URL(), "gateguard-s-c", "s/c", "pw-c", false)
	if err := pub(t, c, prefix+"/s/c/event/access", "own"); err != nil {
		t.Errorf("gate c publishing its own event: %v", err)
	}
	if _, err := connect(t, b.URL(), "gateguard-s-a", "s/a", "pw-a", false); err == nil {
		t.Error("gate a, removed, still connects")
	}
	mustConnect(t, b.URL(), "gateguard-s-b", "s/b", "pw-b", false)
	mustConnect(t, b.URL(), "gatewatch", "gatewatch", "central-pw", false)
	if err := b.SetGates([]Gate{{Site: "s", Gate: "d", Username: "s/d", PasswordHash: "plain"}}); !errors.Is(err, ErrConfig) {
		t.Errorf("a bad gate list: %v", err)
	}
}
