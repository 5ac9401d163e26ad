package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/outbox"
)

// gatewatchConfig is a config with the embedded broker and no gates yet.
func gatewatchConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "gatewatch.yaml")
	writeFile(t, path, "# the site's entry log\nsite: plant-1\ndata_dir: "+dir+"\n"+
		"broker: {enabled: true, listen: '127.0.0.1:0'}  # embedded\napi: {token_env: GW_TOKEN}\n")
	return path
}

// TestGateAdd adds a gate to a config that has none: the config then loads
// with the gate and a bcrypt hash of the printed password, keeps its
// comments, and the printed lines are a gate config that loads; adding the
// same gate again is refused, naming the key, and leaves the file alone.
func TestGateAdd(t *testing.T) {
	dir := t.TempDir()
	path := gatewatchConfig(t, dir)
	var out bytes.Buffer
	if err := cmdGate([]string{"add", "-c", path, "-password-file", filepath.Join(dir, "pw"), "lane-1"}, &out); err != nil {
		t.Fatal(err)
	}
	c, err := configs.LoadGatewatch(path)
	if err != nil {
		t.Fatalf("config after gate add: %v", err)
	}
	if len(c.Gates) != 1 || c.Gates[0].Name != "lane-1" || c.GateSite(c.Gates[0]) != "plant-1" {
		t.Fatalf("gates %+v", c.Gates)
	}
	password := printedPassword(t, out.String())
	if err := bcrypt.CompareHashAndPassword([]byte(c.Gates[0].PasswordHash), []byte(password)); err != nil {
		t.Errorf("stored hash does not match the printed password: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "# the site's entry log") || strings.Contains(string(raw), password) {
		t.Errorf("config after gate add:\n%s", raw)
	}
	// The printed lines, with a password file holding the password, are a
	// gate config that loads.
	writeFile(t, filepath.Join(dir, "pw"), password)
	gateYAML := gateLines(out.String()) + "credentials: {mode: presence}\n"
	gc, err := configs.Parse([]byte(gateYAML), "gate.yaml")
	if err != nil {
		t.Fatalf("printed gate config:\n%s\n%v", gateYAML, err)
	}
	if gc.MQTT.Username != "plant-1/lane-1" || gc.TopicPrefix() != "gateguard/v1/plant-1/lane-1" {
		t.Errorf("gate config %+v", gc.MQTT)
	}

	before, _ := os.ReadFile(path)
	err = cmdGate([]string{"add", "-c", path, "lane-1"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "gates[1].name: plant-1/lane-1 is already gates[0]") {
		t.Errorf("second add: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused gate add changed the config")
	}
	if err := cmdGate([]string{"add", "-c", path, "lane 2"}, io.Discard); err == nil || !strings.Contains(err.Error(), "gates[1].name") {
		t.Errorf("bad name: %v", err)
	}
}

// printedPassword finds the password in gate add's output.
func printedPassword(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "printf '%s' '")
	pw, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 || len(pw) < 32 {
		t.Fatalf("no password in:\n%s", out)
	}
	return pw
}

// gateLines returns the output's lines that are not comments.
func gateLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// TestGateAddThenConnect runs the embedded broker from a config that gate
// add wrote: a gate configured with the printed credentials delivers its
// events, which gatewatch's own account reads.
func TestGateAddThenConnect(t *testing.T) {
	dir := t.TempDir()
	path := gatewatchConfig(t, dir)
	var out bytes.Buffer
	if err := cmdGate([]string{"add", "-c", path, "-o", filepath.Join(dir, "pw"), "lane-1"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "printf") {
		t.Errorf("-o given, but the password was printed:\n%s", out.String())
	}
	c, err := configs.LoadGatewatch(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := startBroker(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	writeFile(t, filepath.Join(dir, "gate.yaml"), gateLines(out.String())+"credentials: {mode: presence}\n")
	gc, err := configs.Load(filepath.Join(dir, "gate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pw, err := gc.MQTT.Password()
	if err != nil || pw == "" {
		t.Fatalf("password from -o file: %q %v", pw, err)
	}
	central := subscribeAll(t, b)
	ob := outbox.NewMemory(100)
	p := mqtt.New(mqtt.Options{Broker: b.URL, ClientID: gc.ClientID(), Username: gc.MQTT.Username, Password: pw,
		Prefix: gc.TopicPrefix(), ConnectTimeout: 5 * time.Second, PublishTimeout: 5 * time.Second, Log: log}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ev, _ := json.Marshal(gate.Event{V: 1, ID: "e1", Seq: 1})
	if err := ob.Record(gate.Message{Seq: 1, ID: "e1", Topic: gate.TopicAccess, Payload: ev}); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-central:
		if topic != "gateguard/v1/plant-1/lane-1/event/access" {
			t.Errorf("gatewatch got %s", topic)
		}
	case <-time.After(time.Minute):
		t.Fatal("the gate's event never reached gatewatch")
	}
}

// subscribeAll connects with gatewatch's own embedded-broker account and
// returns the topics of the access events it receives.
func subscribeAll(t *testing.T, b *embedded) <-chan string {
	t.Helper()
	topics := make(chan string, 100)
	o := paho.NewClientOptions().AddBroker(b.URL).SetClientID("gatewatch-test").
		SetUsername(b.Username).SetPassword(b.Password)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("gatewatch account: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe("gateguard/v1/+/+/event/access", 1, func(_ paho.Client, m paho.Message) { topics <- m.Topic() })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return topics
}

// TestSIGHUPReloadsGates: a gate added with gate add while gatewatch's
// broker runs can connect once gatewatch gets SIGHUP, without a restart.
func TestSIGHUPReloadsGates(t *testing.T) {
	dir := t.TempDir()
	path := gatewatchConfig(t, dir)
	if err := cmdGate([]string{"add", "-c", path, "-o", filepath.Join(dir, "pw-1"), "lane-1"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := configs.LoadGatewatch(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := startBroker(t.Context(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	if err := cmdGate([]string{"add", "-c", path, "-o", filepath.Join(dir, "pw-2"), "lane-2"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	pw, _ := os.ReadFile(filepath.Join(dir, "pw-2"))
	try := func() error {
		o := paho.NewClientOptions().AddBroker(b.URL).SetClientID("gateguard-plant-1-lane-2").
			SetUsername("plant-1/lane-2").SetPassword(string(pw)).SetConnectTimeout(5 * time.Second)
		cl := paho.NewClient(o)
		tok := cl.Connect()
		if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			return fmt.Errorf("connect: %v", tok.Error())
		}
		cl.Disconnect(0)
		return nil
	}
	if try() == nil {
		t.Fatal("lane-2 connected before the reload")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for try() != nil {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("lane-2 never admitted after SIGHUP")
		}
	}
}
