package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestRunWithEmbeddedTLSBroker runs gatewatch with its embedded broker on a
// TLS listener, the gate admitted with gate add: gatewatch's ingest reaches
// its own listener over TLS (trusting exactly the broker's certificate), and
// an event the gate publishes over TLS with its printed credentials is
// stored and served by the API.
func TestRunWithEmbeddedTLSBroker(t *testing.T) {
	dir := t.TempDir()
	ca := mqtttest.NewCA(t, "site CA")
	srv := ca.Server(t)
	port := mqtttest.FreePort(t)
	path := filepath.Join(dir, "gatewatch.yaml")
	writeFile(t, path, fmt.Sprintf("site: plant-1\ndata_dir: %s\napi: {listen: '127.0.0.1:0', token_env: GW_E2E_TOKEN}\n"+
		"broker: {enabled: true, listen: '127.0.0.1:%d', tls: {cert_file: %s, key_file: %s}}\n", filepath.Join(dir, "data"), port, srv.CertFile, srv.KeyFile))
	var printed bytes.Buffer
	if err := cmdGate([]string{"add", "-c", path, "-o", filepath.Join(dir, "pw"), "-broker", fmt.Sprintf("ssl://localhost:%d", port), "lane-1"}, &printed); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GW_E2E_TOKEN", testToken)
	c, err := configs.LoadGatewatch(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- serve(ctx, c, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)), ready) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	waitAPI(t, addr, "/api/health", `"broker_connected":true`, &logs)

	// The gate, configured with what gate add printed plus the site CA.
	writeFile(t, filepath.Join(dir, "gate.yaml"), gateLines(strings.ReplaceAll(printed.String(),
		"/etc/gateguard/ca.pem", ca.CertFile))+"credentials: {mode: presence}\n")
	gc, err := configs.Load(filepath.Join(dir, "gate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := gc.MQTT.Password()
	tc, err := mqtt.TLSConfig(mqtt.TLSFiles{CAFile: gc.MQTT.TLS.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	ob := outbox.NewMemory(10)
	p := mqtt.New(mqtt.Options{Brokers: gc.MQTT.BrokerURLs(), ClientID: gc.ClientID(), Username: gc.MQTT.Username,
		Password: pw, TLS: tc, Prefix: gc.TopicPrefix(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, ob)
	pctx, pcancel := context.WithCancel(ctx)
	pdone := make(chan struct{})
	go func() { defer close(pdone); _ = p.Run(pctx) }()
	defer func() { pcancel(); <-pdone }()
	ev, _ := json.Marshal(gate.Event{V: 1, ID: "ev-tls-1", Seq: 1, Site: "plant-1", Gate: "lane-1",
		Time: time.Now().UTC(), Kind: gate.KindEntry, Decision: "admitted", Reasons: []gate.Reason{}, Holder: "alice", Mode: gate.ModeNormal})
	if err := ob.Record(gate.Message{Seq: 1, ID: "ev-tls-1", Topic: gate.TopicAccess, Payload: ev}); err != nil {
		t.Fatal(err)
	}
	waitAPI(t, addr, "/api/events?person=alice", `"ev-tls-1"`, &logs)
}

// waitAPI polls an API path until its body contains want.
func waitAPI(t *testing.T, addr, path, want string, logs *bytes.Buffer) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		if _, body := get(t, addr, path); strings.Contains(string(body), want) {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			_, body := get(t, addr, path)
			t.Fatalf("%s never said %s: %s\nlog:\n%s", path, want, body, logs.String())
		}
	}
}
