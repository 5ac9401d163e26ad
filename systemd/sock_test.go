package systemd

import (
	"errors"
	"net"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeSocket is a unixgram socket in a temporary folder standing in for
// systemd's notify socket or the journal's.
type fakeSocket struct {
	path string
	conn *net.UnixConn
}

func newFakeSocket(t *testing.T) *fakeSocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &fakeSocket{path: path, conn: c}
}

// drain returns every datagram received so far, without waiting: the
// reads are non-blocking, so they work inside a synctest bubble too.
func (s *fakeSocket) drain(t *testing.T) []string {
	t.Helper()
	rc, err := s.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	buf := make([]byte, 1<<16)
	for {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if errors.Is(rerr, unix.EAGAIN) {
			return msgs
		}
		if rerr != nil {
			t.Fatal(rerr)
		}
		msgs = append(msgs, string(buf[:n]))
	}
}
