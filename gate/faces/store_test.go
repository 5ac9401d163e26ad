package faces

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func opts(t *testing.T, key []byte) Options {
	return Options{Path: filepath.Join(t.TempDir(), "faces.db"), Key: key, ModelID: "m@1", Dim: 3, Threshold: 0.5}
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	s, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var (
	alice = Person{ID: "emp-0001", Name: "Alice", Department: "QA", Templates: [][]float32{{1, 0, 0}, {0.9, 0.1, 0}}}
	bob   = Person{ID: "emp-0002", Name: "Bob", Templates: [][]float32{{0, 1, 0}}}
)

func TestRoundTrip(t *testing.T) {
	for _, enc := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "encrypted"}[enc], func(t *testing.T) {
			var key []byte
			if enc {
				key = mustKey(t)
			}
			o := opts(t, key)
			s, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutAll([]Person{alice, bob}); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(o.Path)
			if enc == strings.Contains(string(raw), "Alice") {
				t.Errorf("encrypted=%v but the name is readable=%v", enc, !enc)
			}
			if fi, _ := os.Stat(o.Path); fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", fi.Mode().Perm())
			}
			s2, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			l := s2.List()
			if len(l) != 2 || l[0].ID != alice.ID || l[0].Name != "Alice" || len(l[0].Templates) != 2 || l[0].Enrolled.IsZero() {
				t.Fatalf("list %+v", l)
			}
			if m, ok := s2.Verify(alice.ID, []float32{0.95, 0.05, 0}); !ok || !m.Match || m.Person != alice.ID || m.Threshold != 0.5 {
				t.Errorf("verify alice %+v %v", m, ok)
			}
			if m, ok := s2.Verify(alice.ID, []float32{0, 1, 0}); !ok || m.Match {
				t.Errorf("bob's face verified as alice %+v", m)
			}
			if _, ok := s2.Verify("nobody", []float32{0, 1, 0}); ok {
				t.Error("verified an unenrolled person")
			}
			if _, ok := s2.Verify(alice.ID, []float32{1, 0}); ok {
				t.Error("compared a descriptor of the wrong length")
			}
			if m, ok := s2.Identify([]float32{0.1, 0.9, 0}); !ok || !m.Match || m.Person != bob.ID {
				t.Errorf("identify %+v", m)
			}
			if m, ok := s2.Identify([]float32{0, 0, 1}); !ok || m.Match {
				t.Errorf("a stranger identified %+v", m)
			}
			if ok, err := s2.Remove(bob.ID); !ok || err != nil {
				t.Fatal(ok, err)
			}
			s3, err := Open(o)
			if err != nil {
				t.Fatal(err)
			}
			if s3.Enrolled(bob.ID) || !s3.Enrolled(alice.ID) {
				t.Errorf("after remove: %+v", s3.List())
			}
		})
	}
}

func TestRefusedFiles(t *testing.T) {
	key, other := mustKey(t), mustKey(t)
	o := opts(t, key)
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(alice); err != nil {
		t.Fatal(err)
	}
	plain := opts(t, nil)
	sp, _ := Open(plain)
	if err := sp.Put(alice); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "g.db")
	_ = os.WriteFile(garbage, []byte("not json"), 0o600)
	tests := []struct {
		name string
		o    Options
		is   error
		want string
	}{
		{"wrong key", Options{Path: o.Path, Key: other, ModelID: "m@1", Dim: 3}, ErrWrongKey, "wrong key"},
		{"no key for an encrypted file", Options{Path: o.Path, ModelID: "m@1", Dim: 3}, ErrNeedsKey, "no key is configured"},
		{"plain file where a key is configured", Options{Path: plain.Path, Key: key, ModelID: "m@1", Dim: 3}, ErrNotEncrypt, "not encrypted"},
		{"another model", Options{Path: o.Path, Key: key, ModelID: "lbph@x", Dim: 3}, ErrOtherModel, `model is "m@1", this gate's descriptor is "lbph@x"`},
		{"another length", Options{Path: o.Path, Key: key, ModelID: "m@1", Dim: 4}, ErrOtherModel, "3 values, this descriptor 4"},
		{"not a templates file", Options{Path: garbage, ModelID: "m@1", Dim: 3}, nil, "not a templates file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(tt.o)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.o.Path) {
				t.Errorf("Open = %v; want %v naming %q and the file", err, tt.is, tt.want)
			}
		})
	}
}

func TestBadRecordsEnrolNothing(t *testing.T) {
	o := opts(t, nil)
	s, _ := Open(o)
	if err := s.Put(alice); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(o.Path)
	tests := []struct {
		name string
		p    Person
		want string
	}{
		{"wrong length", Person{ID: "x", Templates: [][]float32{{1, 2}}}, "template 1 has 2 values, the descriptor has 3"},
		{"no templates", Person{ID: "x"}, "has 0 templates"},
		{"bad id", Person{ID: "a b", Templates: [][]float32{{1, 2, 3}}}, `person id "a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutAll([]Person{bob, tt.p}) // bob is valid: he must not be enrolled either
			if !errors.Is(err, ErrBadTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PutAll = %v; want %q", err, tt.want)
			}
			if s.Enrolled(bob.ID) {
				t.Error("bob enrolled half-way")
			}
			if after, _ := os.ReadFile(o.Path); string(after) != string(before) {
				t.Error("file changed")
			}
		})
	}
}

// TestCrashMidWrite: a crash at any step of a save leaves the old file or
// the new one, whole, never half of one; a leftover temporary file does not
// stop the store from opening or saving again.
func TestCrashMidWrite(t *testing.T) {
	for _, step := range []string{"half-written", "synced"} {
		t.Run(step, func(t *testing.T) {
			o := opts(t, mustKey(t))
			s, _ := Open(o)
			if err := s.Put(alice); err != nil {
				t.Fatal(err)
			}
			crash = func(at string) error {
				if at == step {
					return errors.New("crash")
				}
				return nil
			}
			err := s.Put(bob)
			crash = func(string) error { return nil }
			if err == nil {
				t.Fatal("save did not fail at the crash")
			}
			if s.Enrolled(bob.ID) {
				t.Error("a failed save is visible")
			}
			left, _ := filepath.Glob(filepath.Join(filepath.Dir(o.Path), ".faces.db.tmp*"))
			if len(left) != 1 {
				t.Errorf("expected the crash to leave its temporary file, found %v", left)
			}
			s2, err := Open(o)
			if err != nil {
				t.Fatalf("old file unreadable after a crash: %v", err)
			}
			if !s2.Enrolled(alice.ID) || s2.Enrolled(bob.ID) {
				t.Errorf("after the crash: %+v", s2.List())
			}
			if err := s2.Put(bob); err != nil {
				t.Fatal(err)
			}
			s3, err := Open(o)
			if err != nil || !s3.Enrolled(bob.ID) || !s3.Enrolled(alice.ID) {
				t.Errorf("after a later save: %v %+v", err, s3.List())
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k, _ := GenerateKey()
	good := filepath.Join(dir, "k")
	_ = os.WriteFile(good, []byte(k+"\n"), 0o600)
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("AAAA"), 0o600)
	t.Setenv("GG_TEST_FACES_KEY", k)
	if b, err := LoadKey(good, ""); err != nil || len(b) != KeySize {
		t.Errorf("file: %v", err)
	}
	if b, err := LoadKey("", "GG_TEST_FACES_KEY"); err != nil || len(b) != KeySize {
		t.Errorf("env: %v", err)
	}
	if b, err := LoadKey("", ""); b != nil || err != nil {
		t.Errorf("none: %v %v", b, err)
	}
	for _, tt := range []struct{ file, env, want string }{
		{short, "", "key is 3 bytes, want 32"},
		{filepath.Join(dir, "missing"), "", "key file"},
		{"", "GG_TEST_FACES_UNSET", "GG_TEST_FACES_UNSET is not set"},
	} {
		if _, err := LoadKey(tt.file, tt.env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("LoadKey(%q, %q) = %v; want %q", tt.file, tt.env, err, tt.want)
		}
	}
}

// TestReload: a store picks up another process's enrolment on Reload, and
// keeps what it had when the file turns bad.
func TestReload(t *testing.T) {
	o := opts(t, mustKey(t))
	daemon, _ := Open(o)
	tool, _ := Open(o)
	if err := tool.Put(alice); err != nil {
		t.Fatal(err)
	}
	if daemon.Enrolled(alice.ID) {
		t.Fatal("seen before reload")
	}
	if err := daemon.Reload(); err != nil || !daemon.Enrolled(alice.ID) {
		t.Fatalf("reload: %v", err)
	}
	_ = os.WriteFile(o.Path, []byte("GGFACES1 garbage garbage garbage garbage"), 0o600)
	if err := daemon.Reload(); !errors.Is(err, ErrWrongKey) || !daemon.Enrolled(alice.ID) {
		t.Errorf("reload of a bad file: %v, alice enrolled %v", err, daemon.Enrolled(alice.ID))
	}
}

// TestMeanTemplate: with MeanTemplate a face is compared with the mean of
// the person's templates, not the nearest one. Carol's templates sit either
// side of the probe's direction: the nearest is 0.31 away, their mean 0.1.
func TestMeanTemplate(t *testing.T) {
	carol := Person{ID: "emp-0003", Name: "Carol", Templates: [][]float32{{1, 0.3, 0}, {1, -0.3, 0}}}
	probe := []float32{1.1, 0, 0}
	for _, tc := range []struct {
		mean bool
		want float64
	}{{false, 0.3162}, {true, 0.1}} {
		o := opts(t, nil)
		o.MeanTemplate = tc.mean
		s, err := Open(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Put(carol); err != nil {
			t.Fatal(err)
		}
		m, ok := s.Verify(carol.ID, probe)
		if !ok || math.Abs(m.Distance-tc.want) > 1e-3 || m.Match != (tc.want <= o.Threshold) {
			t.Errorf("MeanTemplate=%v: %+v (ok %v), want distance %.4f", tc.mean, m, ok, tc.want)
		}
	}
}
