package systemd

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// JournalSocket is journald's native protocol socket.
const JournalSocket = "/run/systemd/journal/socket"

// StderrIsJournal reports whether stderr is connected to the journal: the
// service manager sets JOURNAL_STREAM to stderr's device and inode when it
// connects it (systemd.exec(5)). A redirected stderr no longer matches.
func StderrIsJournal() bool {
	return fdMatches(os.Stderr, os.Getenv("JOURNAL_STREAM"))
}

// fdMatches reports whether f's device and inode are stream ("DEV:INODE").
func fdMatches(f *os.File, stream string) bool {
	dev, ino, ok := strings.Cut(stream, ":")
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return strconv.FormatUint(uint64(st.Dev), 10) == dev && strconv.FormatUint(uint64(st.Ino), 10) == ino
}

// JournalOptions configures a JournalHandler.
type JournalOptions struct {
	// Socket is the journal's socket; empty is JournalSocket.
	Socket string
	// Identifier is SYSLOG_IDENTIFIER, the name journalctl -t selects.
	Identifier string
	// Level is the minimum level logged; nil is slog.LevelInfo.
	Level slog.Leveler
	// AddSource adds CODE_FILE, CODE_LINE and CODE_FUNC.
	AddSource bool
}

// JournalHandler is a slog.Handler that sends each record to journald as
// one datagram in the native protocol: MESSAGE, PRIORITY (syslog levels),
// SYSLOG_IDENTIFIER, and every attribute as its own field, named in upper
// case with groups joined by '_' ("err" → ERR, "gate" → GATE), so that
// journalctl -o verbose shows them and journalctl GATE=lane-1 selects them.
// Values with a newline use the protocol's length-prefixed form.
type JournalHandler struct {
	o      JournalOptions
	conn   *journalConn
	prefix string // group prefix, "" or "GROUP_"
	attrs  []byte // preformatted fields of WithAttrs
}

// journalConn is the socket, shared by a handler and its derivatives.
type journalConn struct {
	addr *net.UnixAddr

	mu sync.Mutex // guards c
	c  *net.UnixConn
}

// NewJournalHandler returns a handler writing to the journal's socket.
// The socket is opened on the first record.
func NewJournalHandler(o JournalOptions) *JournalHandler {
	if o.Socket == "" {
		o.Socket = JournalSocket
	}
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	return &JournalHandler{o: o, conn: &journalConn{addr: &net.UnixAddr{Name: o.Socket, Net: "unixgram"}}}
}

// Enabled reports whether level is logged.
func (h *JournalHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.o.Level.Level() }

// WithAttrs returns a handler adding attrs to every record.
func (h *JournalHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append([]byte(nil), h.attrs...)
	for _, a := range attrs {
		h2.attrs = appendAttr(h2.attrs, h.prefix, a)
	}
	return &h2
}

// WithGroup returns a handler naming later attributes GROUP_KEY.
func (h *JournalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + fieldName(name) + "_"
	return &h2
}

// Handle sends r to the journal.
func (h *JournalHandler) Handle(_ context.Context, r slog.Record) error {
	var b []byte
	b = appendField(b, "MESSAGE", r.Message)
	b = appendField(b, "PRIORITY", strconv.Itoa(priority(r.Level)))
	if h.o.Identifier != "" {
		b = appendField(b, "SYSLOG_IDENTIFIER", h.o.Identifier)
	}
	if !r.Time.IsZero() {
		b = appendField(b, "GG_TIME", r.Time.UTC().Format(time.RFC3339Nano))
	}
	if h.o.AddSource && r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		b = appendField(b, "CODE_FILE", f.File)
		b = appendField(b, "CODE_LINE", strconv.Itoa(f.Line))
		b = appendField(b, "CODE_FUNC", f.Function)
	}
	b = append(b, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, h.prefix, a)
		return true
	})
	return h.conn.send(b)
}

func (c *journalConn) send(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		conn, err := net.DialUnix("unixgram", nil, c.addr)
		if err != nil {
			return fmt.Errorf("systemd: journal socket %s: %w", c.addr.Name, err)
		}
		c.c = conn
	}
	if _, err := c.c.Write(b); err != nil {
		c.c.Close()
		c.c = nil
		return fmt.Errorf("systemd: journal write (%d bytes): %w", len(b), err)
	}
	return nil
}

// priority maps slog levels to syslog priorities.
func priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3 // err
	case l >= slog.LevelWarn:
		return 4 // warning
	case l >= slog.LevelInfo:
		return 6 // info
	}
	return 7 // debug
}

// appendAttr appends a as one field, or a group's attributes as several.
func appendAttr(b []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += fieldName(a.Key) + "_"
		}
		for _, g := range a.Value.Group() {
			b = appendAttr(b, p, g)
		}
		return b
	}
	var v string
	switch a.Value.Kind() {
	case slog.KindTime:
		v = a.Value.Time().UTC().Format(time.RFC3339Nano)
	case slog.KindDuration:
		v = a.Value.Duration().String()
	default:
		v = a.Value.String()
	}
	return appendField(b, prefix+fieldName(a.Key), v)
}

// fieldName turns a key into a journal field name: upper case letters,
// digits and '_', not starting with '_' or a digit, at most 64 characters.
func fieldName(key string) string {
	var sb strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z':
			sb.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	s := strings.TrimLeft(sb.String(), "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "F_" + s
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// appendField appends NAME=value\n, or, for a value with a newline,
// NAME\n, its length as 64-bit little endian, the value and \n.
func appendField(b []byte, name, value string) []byte {
	if !strings.Contains(value, "\n") {
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, value...)
		return append(b, '\n')
	}
	b = append(b, name...)
	b = append(b, '\n')
	b = binary.LittleEndian.AppendUint64(b, uint64(len(value)))
	b = append(b, value...)
	return append(b, '\n')
}
