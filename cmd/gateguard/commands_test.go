package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "desk.key")
	var out bytes.Buffer
	if err := cmdKeygen([]string{"-o", key}, &out); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", st.Mode(), err)
	}
	pubText, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := command.ParsePublicKey(strings.TrimSpace(string(pubText)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "public_key: "+strings.TrimSpace(string(pubText))) {
		t.Errorf("output lacks the config line:\n%s", out.String())
	}
	priv, err := readPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public()) {
		t.Error("FILE.pub is not the private key's public key")
	}
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err == nil {
		t.Error("keygen overwrote an existing key")
	}
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPrivateKey(key); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a world-readable key was accepted: %v", err)
	}
}

func TestCommandUsage(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{"open"}, // no key
		{"-key", key, "-operator", "o", "-broker", "tcp://x:1", "-site", "s", "-gate", "g", "set_mode"},
		{"-key", key, "-operator", "o", "-broker", "tcp://x:1", "-site", "s", "-gate", "g", "open", "now"},
		{"-key", key, "-broker", "tcp://x:1", "-site", "s", "-gate", "g", "open"},
		{"-key", key, "-operator", "o", "-site", "s", "-gate", "g", "open"},
		// A password in the broker URL would be printed in its errors.
		{"-key", key, "-operator", "o", "-broker", "tcp://u:s3cret@127.0.0.1:1", "-site", "s", "-gate", "g", "open"},
	} {
		t.Setenv("GATEGUARD_OPERATOR", "")
		err := cmdCommand(context.Background(), args, io.Discard)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%v: the error shows the password: %v", args, err)
		}
	}
	// A password over a plain URL is refused before anything is sent, as the
	// daemon's config check refuses it; -allow-insecure-password lets it
	// through to the connection (which then fails: nothing listens).
	t.Setenv("GG_TEST_BROKER_PW", "s3cret")
	plain := []string{"-key", key, "-operator", "o", "-broker", "tcp://127.0.0.1:1", "-site", "s", "-gate", "g",
		"-username", "u", "-password-env", "GG_TEST_BROKER_PW", "-timeout", "2s"}
	err := cmdCommand(context.Background(), append(plain[:len(plain):len(plain)], "open"), io.Discard)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "clear text") {
		t.Errorf("password over tcp://: err = %v, want a usage error saying clear text", err)
	}
	err = cmdCommand(context.Background(), append(plain[:len(plain):len(plain)], "-allow-insecure-password", "open"), io.Discard)
	if err == nil || strings.Contains(err.Error(), "clear text") {
		t.Errorf("with -allow-insecure-password: err = %v, want a connection error", err)
	}
	for _, args := range [][]string{{}, {"-o"}, {"-o", key, "extra"}} {
		var u usageError
		if err := cmdKeygen(args, io.Discard); !errors.As(err, &u) {
			t.Errorf("keygen %v: err = %v", args, err)
		}
	}
}

// TestCommandsEndToEnd runs the daemon on simulated hardware with commands
// enabled against a real Mosquitto, drives it with `gateguard command`, and
// validates every message the daemon publishes against its schema.
func TestCommandsEndToEnd(t *testing.T) {
	broker := mqtttest.Start(t, "")
	g := newCommandsGate(t, broker.URL)
	cfg, err := configs.Load(g.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	prefix := cfg.TopicPrefix()
	sub := mqtttest.Subscribe(t, broker.URL, prefix+"/#")
	d, err := build(cfg, testLog(), parts{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startDaemon(ctx, d, 10*time.Second)
	defer r.stop(t)

	var res *command.Result
	for i := 0; ; i++ { // until the daemon listens
		if res, err = g.send(ctx, t, cfg, "desk", "get_state"); err == nil {
			break
		}
		if i == 10 {
			t.Fatalf("get_state: %v", err)
		}
	}
	var st gate.State
	if err := json.Unmarshal(res.State, &st); err != nil || st.Lane != gate.LaneIdle || st.Mode != gate.ModeNormal {
		t.Fatalf("get_state: %+v (%v)", res, err)
	}
	send := func(op string, args ...string) (*command.Result, error) { return g.send(ctx, t, cfg, op, args...) }
	expectResult(t, command.StatusOK, "")(send("desk", "set_mode", "locked"))
	expectResult(t, command.StatusRefused, gate.RefusedLocked)(send("desk", "open"))
	expectResult(t, command.StatusOK, "")(send("desk", "set_mode", "normal"))
	opened := expectResult(t, command.StatusOK, "")(send("desk", "open"))
	expectResult(t, command.StatusRejected, string(command.ReasonNotPermitted))(send("desk", "reload"))
	expectResult(t, command.StatusRejected, string(command.ReasonNotPermitted))(send("desk", "-override", "-reason", "clinic rechecked: 36.9 °C", "open"))
	checkReload(t, g, send)
	r.stop(t)
	checkRemoteOpenPublished(t, sub, prefix, opened)
}

// commandsGate is the demo gate's config with commands enabled for two
// operators: desk (open, set_mode, get_state) and admin (get_state,
// reload), their keys beside it.
type commandsGate struct {
	dir, cfgPath string
	broker       string
	base         string // the config without its commands section
	commands     string
}

// newCommandsGate makes the operators' keys and writes the config, on the
// broker at url.
func newCommandsGate(t *testing.T, url string) *commandsGate {
	t.Helper()
	g := &commandsGate{dir: t.TempDir(), broker: url}
	for _, op := range []string{"desk", "admin"} {
		if err := cmdKeygen([]string{"-o", filepath.Join(g.dir, op+".key")}, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	pubKey := func(op string) string {
		b, err := os.ReadFile(filepath.Join(g.dir, op+".key.pub"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	demo, err := os.ReadFile("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g.base = strings.Replace(string(demo), "broker: tcp://127.0.0.1:1883", "broker: "+url, 1)
	// The demo's credential files are relative to configs/; this copy lives elsewhere.
	demoDir, err := filepath.Abs("../../configs/demo")
	if err != nil {
		t.Fatal(err)
	}
	g.base = strings.ReplaceAll(g.base, " demo/", " "+demoDir+"/")
	g.base = strings.ReplaceAll(g.base, "[demo/", "["+demoDir+"/")
	g.commands = "\ncommands:\n  enabled: true\n  nonce_file: " + filepath.Join(g.dir, "nonces.json") +
		"\n  operators:\n    - id: desk\n      public_key: " + pubKey("desk") +
		"\n      allow: [open, set_mode, get_state]\n    - id: admin\n      public_key: " + pubKey("admin") + "\n      allow: [get_state, reload]\n"
	g.cfgPath = filepath.Join(g.dir, "gate.yaml")
	g.write(t, g.base+g.commands)
	return g
}

// write replaces the gate's config file with s.
func (g *commandsGate) write(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(g.cfgPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// send runs `gateguard command` as operator op would. The desk uses the
// gate's config file; the admin names the broker, site and gate (the
// config file may be broken on purpose).
func (g *commandsGate) send(ctx context.Context, t *testing.T, cfg *configs.Config, op string, args ...string) (*command.Result, error) {
	var out bytes.Buffer
	target := []string{"-c", g.cfgPath}
	if op == "admin" {
		target = []string{"-broker", g.broker, "-site", cfg.Site, "-gate", cfg.Gate}
	}
	full := append(append(target, "-key", filepath.Join(g.dir, op+".key"), "-operator", op, "-timeout", "5s"), args...)
	err := cmdCommand(ctx, full, &out)
	if err != nil && !errors.Is(err, errCommandNotOK) {
		return nil, err
	}
	res, perr := command.ParseResult(out.Bytes())
	if perr != nil {
		t.Fatalf("command %v printed %q: %v", args, out.String(), perr)
	}
	return res, nil
}

// expectResult returns a check that a command succeeded in being sent and
// has status and reason.
func expectResult(t *testing.T, status, reason string) func(*command.Result, error) *command.Result {
	return func(res *command.Result, err error) *command.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != status || res.Reason != reason {
			t.Fatalf("result %+v, want %s/%s", res, status, reason)
		}
		return res
	}
}

// checkReload: a threshold applies live, a camera setting needs a restart,
// and a broken file changes nothing.
func checkReload(t *testing.T, g *commandsGate, send func(op string, args ...string) (*command.Result, error)) {
	t.Helper()
	g.write(t, strings.Replace(strings.Replace(g.base, "fever_c: 37.3", "fever_c: 37.6", 1), "fps: 10", "fps: 12", 1)+g.commands)
	r := expectResult(t, command.StatusOK, "")(send("admin", "reload"))
	if !slices.Equal(r.Applied, []string{"thermal.fever_c"}) || !slices.Equal(r.RestartRequired, []string{"camera.fps"}) {
		t.Errorf("reload: applied %v, restart_required %v", r.Applied, r.RestartRequired)
	}
	g.write(t, g.base+g.commands+"bogus: 1\n")
	r = expectResult(t, command.StatusFailed, "invalid_config")(send("admin", "reload"))
	if !strings.Contains(r.Detail, `unknown key "bogus"`) {
		t.Errorf("reload detail %q", r.Detail)
	}
}

// checkRemoteOpenPublished: every message the daemon published validates;
// the remote open is an entry event naming the operator and the request.
func checkRemoteOpenPublished(t *testing.T, sub *mqtttest.Subscriber, prefix string, opened *command.Result) {
	t.Helper()
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	sawRemote := false
	timeout := time.After(2 * time.Minute)
	for seen := false; !seen; {
		select {
		case m := <-sub.C:
			rel := strings.TrimPrefix(m.Topic, prefix+"/")
			if err := schemas.ValidateTopic(rel, m.Payload); err != nil {
				t.Errorf("%s %s: %v", rel, m.Payload, err)
			}
			if rel == gate.TopicAccess {
				var ev gate.Event
				mustJSON(t, m.Payload, &ev)
				if ev.Kind == gate.KindRemoteOpen {
					sawRemote = ev.ID == opened.Event && ev.Operator == "desk" && ev.Request == opened.ID
				}
			}
			seen = rel == gate.TopicAvailability && string(m.Payload) == "offline"
		case <-timeout:
			t.Fatal("the daemon did not go offline")
		}
	}
	if !sawRemote {
		t.Error("no remote_open event naming the operator and the request")
	}
}
