package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
)

// TestDaemonNotifiesSystemd runs the demo daemon as systemd would start it
// (NOTIFY_SOCKET a unixgram socket in a temp dir, WatchdogSec 1 s): it
// sends READY=1 once the decision loop answers, watchdog pings while its
// loops run, and STOPPING=1 at shutdown. (That the pings stop when a loop
// hangs is systemd's TestWatchdogStopsWhenTheDecisionLoopHangs.)
func TestDaemonNotifiesSystemd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", "")

	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	wd, err := newWatchdog(log)
	if err != nil || wd == nil || wd.timeout != time.Second {
		t.Fatalf("newWatchdog = %+v, %v", wd, err)
	}
	d, err := build(cfg, log, parts{})
	if err != nil {
		t.Fatal(err)
	}
	wd.plug(d)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, 0) }()

	// next reads the next message; the deadline only bounds a failure.
	next := func() string {
		t.Helper()
		_ = sock.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 4096)
		n, err := sock.Read(buf)
		if err != nil {
			cancel()
			<-done
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := next(); got != "READY=1\nSTATUS=deciding" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	for range 3 {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1", got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for {
		got := next()
		if got == "STOPPING=1" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("notification %q at shutdown", got)
		}
	}
}
