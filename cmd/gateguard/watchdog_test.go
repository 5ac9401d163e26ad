package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
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
	sock := fakeNotifySocket(t)
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

	stop := sync.OnceValue(func() error { cancel(); return <-done })
	defer stop() // also when a check below fails
	next := func() string { t.Helper(); return nextNotification(t, sock) }
	if got := next(); got != "READY=1\nSTATUS=deciding" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	for range 3 {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1", got)
		}
	}
	if err := stop(); err != nil {
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

// fakeNotifySocket listens on a unixgram socket in a temp dir and points
// NOTIFY_SOCKET at it.
func fakeNotifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return sock
}

// nextNotification reads the next message; the deadline only bounds a
// failure.
func nextNotification(t *testing.T, sock *net.UnixConn) string {
	t.Helper()
	_ = sock.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	n, err := sock.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}
