package outbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrecheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	d, err := Open(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= 500; seq++ {
		if err := d.Record(msg(seq, 300)); err != nil {
			t.Fatal(err)
		}
	}
	_ = d.Close()
	data, _ := os.ReadFile(good)
	for _, tc := range []struct {
		name    string
		content []byte
		want    string // "" for no error
	}{
		{"good", data, ""},
		{"empty", nil, "empty"},
		{"truncated", data[:len(data)/2], "truncated"},
		{"short", data[:50], "past the end"},
		{"one page", data[:100], "truncated"},
		{"garbage", []byte(strings.Repeat("garbage!", 1024)), "bad magic"},
		{"both metas damaged", damage(data, 40, 4096+40), "both meta pages are invalid"},
		{"one meta damaged", damage(data, 40), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := precheck(bytes.NewReader(tc.content), int64(len(tc.content)))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("precheck = %v, want %q", err, tc.want)
			}
		})
	}
}

func damage(data []byte, offsets ...int) []byte {
	out := append([]byte(nil), data...)
	for _, o := range offsets {
		out[o] ^= 0xff
	}
	return out
}

// FuzzPrecheck: any file content is accepted or refused with an error, never
// a crash.
func FuzzPrecheck(f *testing.F) {
	dir := f.TempDir()
	d, err := Open(filepath.Join(dir, "seed.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	_ = d.Record(msg(1, 10))
	_ = d.Close()
	seed, _ := os.ReadFile(filepath.Join(dir, "seed.db"))
	f.Add(seed[:8192])
	f.Add([]byte{})
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, content []byte) {
		_ = precheck(bytes.NewReader(content), int64(len(content)))
	})
}
