package systemd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Notifier sends sd_notify(3) state messages ("READY=1", "WATCHDOG=1", …)
// to the service manager's datagram socket. A nil *Notifier sends nothing,
// so a daemon not started by systemd needs no special case.
type Notifier struct {
	addr *net.UnixAddr

	mu   sync.Mutex // guards conn
	conn *net.UnixConn
}

// NewNotifier returns a Notifier for the socket at path; a leading '@'
// names an abstract socket, as in NOTIFY_SOCKET.
func NewNotifier(path string) *Notifier {
	name := path
	if strings.HasPrefix(name, "@") {
		name = "\x00" + name[1:]
	}
	return &Notifier{addr: &net.UnixAddr{Name: name, Net: "unixgram"}}
}

// NotifierFromEnv returns a Notifier for $NOTIFY_SOCKET, or nil when the
// variable is not set (not started by systemd, or Type=simple).
func NotifierFromEnv() *Notifier {
	p := os.Getenv("NOTIFY_SOCKET")
	if p == "" {
		return nil
	}
	return NewNotifier(p)
}

// Notify sends one message of newline-separated VAR=value assignments.
func (n *Notifier) Notify(state string) error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		c, err := net.DialUnix("unixgram", nil, n.addr)
		if err != nil {
			return fmt.Errorf("systemd: notify socket %s: %w", n.addr.Name, err)
		}
		n.conn = c
	}
	if _, err := n.conn.Write([]byte(state)); err != nil {
		n.conn.Close()
		n.conn = nil
		return fmt.Errorf("systemd: notify %q: %w", state, err)
	}
	return nil
}

// Close closes the socket; later messages open it again.
func (n *Notifier) Close() error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil {
		return nil
	}
	err := n.conn.Close()
	n.conn = nil
	return err
}

// ErrNoWatchdog reports that the service manager expects no watchdog pings.
var ErrNoWatchdog = errors.New("systemd: no watchdog (WATCHDOG_USEC unset)")

// WatchdogInterval returns the watchdog timeout the service manager set
// (WatchdogSec, passed as WATCHDOG_USEC), when it is meant for this process
// (WATCHDOG_PID unset or ours). Ping at least twice per interval.
func WatchdogInterval() (time.Duration, error) {
	s := os.Getenv("WATCHDOG_USEC")
	if s == "" {
		return 0, ErrNoWatchdog
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, ErrNoWatchdog
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil || us <= 0 {
		return 0, fmt.Errorf("systemd: WATCHDOG_USEC=%q is not a positive number of microseconds", s)
	}
	return time.Duration(us) * time.Microsecond, nil
}
