package systemd

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestNotifier(t *testing.T) {
	sock := newFakeSocket(t)
	t.Setenv("NOTIFY_SOCKET", sock.path)
	n := NotifierFromEnv()
	defer n.Close()
	for _, m := range []string{"READY=1\nSTATUS=deciding", "WATCHDOG=1"} {
		if err := n.Notify(m); err != nil {
			t.Fatal(err)
		}
	}
	if got := sock.drain(t); len(got) != 2 || got[0] != "READY=1\nSTATUS=deciding" || got[1] != "WATCHDOG=1" {
		t.Errorf("received %q", got)
	}
	t.Setenv("NOTIFY_SOCKET", "")
	var none *Notifier = NotifierFromEnv()
	if none != nil || none.Notify("READY=1") != nil {
		t.Error("a nil notifier must send nothing and not fail")
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	for _, tt := range []struct {
		usec, pid string
		want      time.Duration
		wantErr   error
	}{
		{"30000000", "", 30 * time.Second, nil},
		{"30000000", me, 30 * time.Second, nil},
		{"30000000", "1", 0, ErrNoWatchdog},
		{"", "", 0, ErrNoWatchdog},
		{"-5", "", 0, errors.New("")},
	} {
		t.Setenv("WATCHDOG_USEC", tt.usec)
		t.Setenv("WATCHDOG_PID", tt.pid)
		got, err := WatchdogInterval()
		if got != tt.want || (tt.wantErr == nil) != (err == nil) || (tt.wantErr == ErrNoWatchdog && !errors.Is(err, ErrNoWatchdog)) {
			t.Errorf("USEC=%q PID=%q: %v, %v", tt.usec, tt.pid, got, err)
		}
	}
}
