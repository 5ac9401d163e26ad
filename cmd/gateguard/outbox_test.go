package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestDurableOutboxWiring: with outbox.path set the daemon records into the
// durable outbox, continues its numbering after a restart, and refuses to
// start on an unreadable file, naming it and leaving it as it was.
func TestDurableOutboxWiring(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Outbox.Path = filepath.Join(t.TempDir(), "outbox.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	d, err := build(cfg, log, parts{})
	if err != nil {
		t.Fatal(err)
	}
	ob, ok := d.outbox.(*outbox.Durable)
	if !ok {
		t.Fatalf("outbox is %T, want *outbox.Durable", d.outbox)
	}
	if err := ob.Record(gate.Message{Seq: 1, ID: "a", Topic: gate.TopicAccess, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	d.close() // closes the outbox: the file lock is released
	if err := ob.Record(gate.Message{Seq: 2}); !errors.Is(err, outbox.ErrClosed) {
		t.Fatalf("record after close: %v", err)
	}

	d, err = build(cfg, log, parts{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if got := d.outbox.LastSeq(); got != 1 || d.outbox.Depth() != 1 {
		t.Fatalf("after restart: last seq %d depth %d, want 1 and 1", got, d.outbox.Depth())
	}
	d.close()

	bad := filepath.Join(t.TempDir(), "damaged.db")
	junk := []byte(strings.Repeat("junk", 4096))
	if err := os.WriteFile(bad, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Outbox.Path = bad
	if _, err := build(cfg, log, parts{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("build with a damaged outbox: %v, want an error naming %s", err, bad)
	}
	if after, _ := os.ReadFile(bad); string(after) != string(junk) {
		t.Error("the damaged outbox file was changed")
	}
}

// TestCloseLeavesRelaySafe: a daemon closed without running (a start that
// failed after the relay was set up) leaves the relay in its configured safe
// state, not merely de-energised.
func TestCloseLeavesRelaySafe(t *testing.T) {
	for _, tc := range []struct {
		safe      string
		activeLow bool
		want      gpio.Level
	}{
		{"locked", false, gpio.Low},
		{"locked", true, gpio.High},
		{"open", false, gpio.High},
		{"open", true, gpio.Low},
	} {
		t.Run(fmt.Sprintf("%s active_low=%v", tc.safe, tc.activeLow), func(t *testing.T) {
			cfg, err := configs.Load("../../configs/demo.yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.MQTT.Enabled = false
			cfg.GPIO.Relay.SafeState, cfg.GPIO.Relay.ActiveLow = tc.safe, tc.activeLow
			sims := &simHardware{}
			d, err := build(cfg, slog.New(slog.DiscardHandler), parts{sim: sims})
			if err != nil {
				t.Fatal(err)
			}
			pin := sims.pins[cfg.GPIO.Relay.Pin]
			d.close()
			if got := pin.Read(); got != tc.want {
				t.Errorf("relay pin %v after close, want %v", got, tc.want)
			}
		})
	}
}

// TestNoBrokerNoOutboxFile: with mqtt off and no outbox file nothing drains
// the memory outbox; it must not fill up and make the gate deny everyone.
func TestNoBrokerNoOutboxFile(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled, cfg.Outbox.Path, cfg.Outbox.MaxEvents = false, "", 1000
	d, err := build(cfg, slog.New(slog.DiscardHandler), parts{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	for seq := uint64(1); seq <= 1500; seq++ {
		if err := d.outbox.Record(gate.Message{Seq: seq, ID: fmt.Sprint(seq), Topic: gate.TopicAccess, Payload: []byte(`{}`)}); err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
	}
	if d.outbox.LastSeq() != 1500 || d.outbox.Depth() != 0 {
		t.Errorf("last seq %d depth %d, want 1500 and 0", d.outbox.LastSeq(), d.outbox.Depth())
	}
}
