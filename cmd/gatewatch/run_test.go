package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

const testToken = "e2e-token-0123456789"

func get(t *testing.T, addr, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestBrokerDownAtStart: gatewatch started while its broker is down
// serves the API from the store, reports the broker down, connects when
// the broker comes up and stores what a gate publishes.
func TestBrokerDownAtStart(t *testing.T) {
	port := mqtttest.FreePort(t)
	t.Setenv("GW_E2E_TOKEN", testToken)
	dir := t.TempDir()
	yaml := fmt.Sprintf("site: e2e\ndata_dir: %s\nmqtt: {brokers: ['tcp://127.0.0.1:%d']}\napi: {listen: '127.0.0.1:0', token_env: GW_E2E_TOKEN}\n",
		filepath.Join(dir, "data"), port)
	c, err := configs.ParseGatewatch([]byte(yaml), "e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() { done <- serve(ctx, c, slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	if code, body := get(t, addr, "/api/events"); code != 200 || !strings.Contains(string(body), `"events":[]`) {
		t.Fatalf("API with the broker down: %d %s", code, body)
	}
	if _, body := get(t, addr, "/api/health"); !strings.Contains(string(body), `"broker_connected":false`) {
		t.Fatalf("health with the broker down: %s", body)
	}

	broker := mqtttest.StartOnPort(t, port, mqtttest.SessionConfig(t))
	// Wait until gatewatch's session exists (it subscribes on connect).
	pub := mqtttest.Connect(t, paho.NewClientOptions().AddBroker(broker.URL).SetClientID("e2e-gate"))
	defer pub.Disconnect(0)
	pub.Publish("gateguard/v1/p1/lane-1/availability", 1, true, "online").Wait()
	e := storetest.Event("p1", "lane-1", 1, storetest.Base, "alice", "admitted")
	deadline := time.Now().Add(time.Minute)
	for tick := time.NewTicker(100 * time.Millisecond); ; <-tick.C {
		if time.Now().After(deadline) {
			t.Fatalf("the gate never showed online; log:\n%s", logs.String())
		}
		if _, body := get(t, addr, "/api/gates"); strings.Contains(string(body), `"availability":"online"`) {
			tick.Stop()
			break
		}
	}
	pub.Publish("gateguard/v1/p1/lane-1/event/access", 1, false, []byte(e.Raw)).Wait()
	for tick := time.NewTicker(100 * time.Millisecond); ; <-tick.C {
		if time.Now().After(deadline) {
			t.Fatalf("event not stored; log:\n%s", logs.String())
		}
		code, body := get(t, addr, "/api/events?person=alice")
		var out struct {
			Events []json.RawMessage `json:"events"`
		}
		if code == 200 && json.Unmarshal(body, &out) == nil && len(out.Events) == 1 {
			tick.Stop()
			break
		}
	}
	if code, body := get(t, addr, "/api/health"); code != 200 || !strings.Contains(string(body), `"broker_connected":true`) {
		t.Fatalf("health: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "mqtt: {brokers: [tcp://h:1]}\napi: {token_env: X}\nretention: {events: 1h}\n")
	err := cmdCheck([]string{"-c", bad}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "retention.events") {
		t.Fatalf("check of a bad config: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "mqtt: {brokers: [tcp://h:1]}\napi: {token_env: GW_CHECK_TOKEN}\n")
	t.Setenv("GW_CHECK_TOKEN", testToken)
	var out bytes.Buffer
	if err := cmdCheck([]string{"-c", good}, &out); err != nil || !strings.Contains(out.String(), "ok (store sqlite") {
		t.Fatalf("check: %v %s", err, out.String())
	}
	if err := run(context.Background(), []string{"nope"}); exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
}
