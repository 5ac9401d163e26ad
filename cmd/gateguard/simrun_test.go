package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/scenario"
	"github.com/gateguard/gateguard/vision/fusion"
)

// testLog discards the daemon's log unless the test runs with -v.
func testLog() *slog.Logger {
	if testing.Verbose() {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// running is a daemon started by startDaemon.
type running struct {
	stopFn context.CancelFunc
	done   chan error
	err    error
	waited bool
}

// startDaemon runs d until ctx ends or stop is called; drain is run's.
func startDaemon(ctx context.Context, d *daemon, drain time.Duration) *running {
	runCtx, stop := context.WithCancel(ctx)
	r := &running{stopFn: stop, done: make(chan error, 1)}
	go func() { r.done <- d.run(runCtx, drain) }()
	return r
}

// stop stops the daemon and waits for run to return; a run error fails t.
// Later calls do nothing.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.waited {
		return
	}
	r.stopFn()
	r.err, r.waited = <-r.done, true
	if r.err != nil {
		t.Errorf("daemon: %v", r.err)
	}
}

// scenarioOpts are runScenario's options; the zero value is a plain run.
type scenarioOpts struct {
	// observe, when set, sees every recorded message, on the decision
	// loop's goroutine, before access events go to the scenario runner.
	observe func(gate.Message)
	// truth, when set, is where the simulated thermal camera really looks.
	truth *fusion.Homography
	drain time.Duration
	// built, when set, sees the daemon once it is built.
	built func(*daemon)
	// metrics, when set, instruments the daemon (parts.metrics).
	metrics *gateMetrics
}

// runScenario builds the daemon from cfg on simulated hardware, runs sc
// through it within two minutes, and stops it. A build, daemon or scenario
// error fails t. It returns the simulated hardware, to inspect after the
// daemon has stopped.
func runScenario(t *testing.T, cfg *configs.Config, sc *scenario.Scenario, o scenarioOpts) *simHardware {
	t.Helper()
	log := testLog()
	events := make(chan gate.Event, 1024)
	record := func(m gate.Message) {
		if o.observe != nil {
			o.observe(m)
		}
		if m.Topic == gate.TopicAccess {
			var ev gate.Event
			if err := json.Unmarshal(m.Payload, &ev); err != nil {
				t.Errorf("recorded access event is not JSON: %v", err)
			}
			events <- ev
		}
	}
	sims := &simHardware{}
	d, err := build(cfg, log, parts{sim: sims, onRecord: []func(gate.Message){record}, metrics: o.metrics})
	if err != nil {
		t.Fatal(err)
	}
	if o.built != nil {
		o.built(d)
	}
	w, err := newWorld(cfg, sims)
	if err != nil {
		d.close()
		t.Fatal(err)
	}
	w.faces = d.faces
	if o.truth != nil {
		w.truth = *o.truth
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startDaemon(ctx, d, o.drain)
	results, err := (&scenario.Runner{World: w, Events: events, Log: log}).Run(ctx, sc)
	r.stop(t)
	if err != nil {
		t.Fatalf("scenario: %v (results %+v)", err, results)
	}
	return sims
}

// presenceConfig is the demo config with mqtt off and the insecure presence
// mode, for scenarios that test screening, not credentials (their QR
// payloads are plain text).
func presenceConfig(t *testing.T) *configs.Config {
	t.Helper()
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	cfg.Credentials = configs.Credentials{Mode: "presence"}
	return cfg
}
