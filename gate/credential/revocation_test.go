package credential

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRevocationFile(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.txt")
	for _, id := range []string{"p-1", "p-2", "p-1"} {
		if _, err := Revoke(list, id, "reason\twith tab", testClock); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRevocations(b)
	if err != nil || len(rs) != 2 || rs[1].ID != "p-2" || !rs[1].At.Equal(testClock) || rs[1].Reason != "reason with tab" {
		t.Fatalf("ParseRevocations = %+v, %v\n%s", rs, err, b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "revoked.txt" && e.Name() != "revoked.txt.lock" {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	if _, err := Revoke(list, "has space", "", testClock); err == nil {
		t.Error("bad id accepted")
	}
}

func TestParseRevocationsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"p-1\tyesterday\n", "line 1: time"},
		{"# c\n\np 1\n", "line 3"},
		{strings.Repeat("x", 65) + "\n", "line 1"},
	} {
		if _, err := ParseRevocations([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRevocations(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestRevocationListReload(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.txt")
	if err := WriteFileAtomic(list, FormatRevocations([]Revocation{{ID: "p-1"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	rl, err := OpenRevocationList(list)
	if err != nil {
		t.Fatal(err)
	}
	gen := rl.gen
	if r, _, err := rl.Check("p-1"); !r || err != nil {
		t.Fatalf("p-1: %v %v", r, err)
	}
	if rl.gen != gen {
		t.Error("reloaded an unchanged file")
	}
	if err := WriteFileAtomic(list, FormatRevocations([]Revocation{{ID: "p-2", At: time.Unix(0, 0)}}), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, _, _ := rl.Check("p-1"); r {
		t.Error("p-1 still revoked after the file changed")
	}
	if r, _, _ := rl.Check("p-2"); !r {
		t.Error("p-2 not revoked after the file changed")
	}
	if err := os.Remove(list); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rl.Check("p-2"); !errors.Is(err, ErrRevocationList) {
		t.Errorf("removed list: err = %v, want a fail-closed ErrRevocationList", err)
	}
	if err := os.WriteFile(list, []byte("bad id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rl.Reload(); err == nil {
		t.Error("Reload of a corrupt list succeeded")
	}
	if _, err := OpenRevocationList(list); err == nil {
		t.Error("OpenRevocationList of a corrupt list succeeded")
	}
}

func FuzzParseRevocations(f *testing.F) {
	f.Add([]byte("# x\np-1\t2021-06-01T12:00:00Z\tlost\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, err := ParseRevocations(b)
		if err != nil {
			return
		}
		again, err := ParseRevocations(FormatRevocations(rs))
		if err != nil || len(again) != len(rs) {
			t.Fatalf("format/parse round trip: %v (%d vs %d)", err, len(again), len(rs))
		}
	})
}

func TestRevocationListDeletedFailsClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revoked.txt")
	if _, err := Revoke(path, "p1", "lost", testClock); err != nil {
		t.Fatal(err)
	}
	r, err := OpenRevocationList(path)
	if err != nil {
		t.Fatal(err)
	}
	if revoked, _, err := r.Check("p1"); !revoked || err != nil {
		t.Fatalf("p1: revoked %v, err %v", revoked, err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Deleting the list must not un-revoke p1: every check fails.
	if _, _, err := r.Check("p1"); !errors.Is(err, ErrRevocationList) {
		t.Fatalf("after delete: err = %v, want ErrRevocationList", err)
	}
	if _, _, err := r.Check("p2"); err == nil {
		t.Fatal("after delete: an unrevoked pass was checked as fine")
	}
	// An empty file put back revokes nothing.
	if err := WriteFileAtomic(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if revoked, _, err := r.Check("p1"); revoked || err != nil {
		t.Fatalf("after an empty list: revoked %v, err %v", revoked, err)
	}
}

// TestRevokeConcurrent is 20 `gateguard pass revoke` runs at once on one
// list (the command calls Revoke): every one of them must land. Without the
// lock, each read the list before another's rename and wrote it back without
// the others' additions (issue 9: 13 entries of 20).
func TestRevokeConcurrent(t *testing.T) {
	list := filepath.Join(t.TempDir(), "revoked.txt")
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	added := make([]bool, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			added[i], errs[i] = Revoke(list, fmt.Sprintf("p-%02d", i), "lost", testClock)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil || !added[i] {
			t.Errorf("revoke p-%02d: added %v, err %v", i, added[i], err)
		}
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ParseRevocations(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != n {
		t.Fatalf("%d entries after %d concurrent revokes, want %d:\n%s", len(rs), n, n, b)
	}
	rl, err := OpenRevocationList(list)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if r, _, err := rl.Check(fmt.Sprintf("p-%02d", i)); !r || err != nil {
			t.Errorf("p-%02d: revoked %v, err %v", i, r, err)
		}
	}
}

func TestWriteFileNew(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "k")
	if err := WriteFileNew(name, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	err := WriteFileNew(name, []byte("two"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: err = %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(name); string(b) != "one" {
		t.Fatalf("content %q after a refused write, want %q", b, "one")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
