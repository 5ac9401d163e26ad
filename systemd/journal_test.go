package systemd

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestJournalHandler logs through a fake journal socket and reads the
// datagram back: the message, the syslog priority, the identifier and every
// attribute as its own upper-case field, groups joined with '_', and a
// multi-line value in the length-prefixed form.
func TestJournalHandler(t *testing.T) {
	sock := newFakeSocket(t)
	h := NewJournalHandler(JournalOptions{Socket: sock.path, Identifier: "gateguard", Level: slog.LevelDebug})
	log := slog.New(h).With("gate", "lane-1").WithGroup("thermal")
	log.Warn("blackbody missing", "err", errors.New("region not uniform"), "spread_c", 1.5, "trace", "line 1\nline 2",
		slog.Group("bb", "x", 28))
	msgs := sock.drain(t)
	if len(msgs) != 1 {
		t.Fatalf("%d datagrams, want 1", len(msgs))
	}
	got, err := parseJournal([]byte(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"MESSAGE": "blackbody missing", "PRIORITY": "4", "SYSLOG_IDENTIFIER": "gateguard",
		"GATE": "lane-1", "THERMAL_ERR": "region not uniform", "THERMAL_SPREAD_C": "1.5",
		"THERMAL_TRACE": "line 1\nline 2", "THERMAL_BB_X": "28",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (all: %q)", k, got[k], want, got)
		}
	}
	if slog.New(NewJournalHandler(JournalOptions{Socket: sock.path})).Enabled(t.Context(), slog.LevelDebug) {
		t.Error("debug enabled at the default level")
	}
}

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{"err": "ERR", "config.hash": "CONFIG_HASH", "_x": "X", "9lives": "F_9LIVES", "": "F_"} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStderrIsJournal: JOURNAL_STREAM names a file's device and inode;
// only that file matches.
func TestStderrIsJournal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	st := fi.Sys().(*syscall.Stat_t)
	stream := strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
	if !fdMatches(f, stream) {
		t.Errorf("%s does not match its own device and inode", stream)
	}
	if fdMatches(f, stream+"1") || fdMatches(f, "") || fdMatches(f, "garbage") {
		t.Error("matched another stream")
	}
}
