package main

import (
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces/enrolfile"
)

// TestEnrollExport: the people enrolled from photos come out of `enroll
// export` in a file gatewatch's reader accepts with the station's public
// key, with the templates file's descriptors exactly; one named person
// only; an unknown person, a missing key or flag are errors and write
// nothing.
func TestEnrollExport(t *testing.T) {
	dir, cfg := importRoster(t)
	key := filepath.Join(dir, "station.key")
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	pubText, _ := os.ReadFile(key + ".pub")
	pub, err := command.ParsePublicKey(strings.TrimSpace(string(pubText)))
	if err != nil {
		t.Fatal(err)
	}
	fp, closeAll, err := openTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	enrolled := fp.store.List()
	model, dim := fp.desc.ModelID(), fp.dim
	closeAll()
	checks := enrolfile.Checks{Stations: map[string]ed25519.PublicKey{"desk-1": pub}, Model: model, Dim: dim}

	outFile := filepath.Join(dir, "all.enrol")
	out, err := enroll(t, "export", "-c", cfg, "-key", key, "-station", "desk-1", "-o", outFile)
	if err != nil || !strings.Contains(out, "2 person(s), 3 descriptor(s), model "+model+", signed by station desk-1") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if st, _ := os.Stat(outFile); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(outFile)
	b, err := enrolfile.Read(data, checks)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.People) != 2 || b.People[0].ID != "emp-1" || b.People[0].Name != "Ann" || b.People[1].Department != "Ops" {
		t.Fatalf("people %+v", b.People)
	}
	for _, p := range enrolled {
		for _, q := range b.People {
			if q.ID == p.ID && (len(q.Descriptors) != len(p.Templates) || !q.Enrolled.Equal(p.Enrolled) ||
				!slices.Equal(q.Descriptors[0], p.Templates[0])) {
				t.Errorf("%s: exported %d descriptors (enrolled %v), templates file has %d (%v)", p.ID, len(q.Descriptors), q.Enrolled, len(p.Templates), p.Enrolled)
			}
		}
	}

	checkExportChoices(t, dir, cfg, key, checks)
}

// checkExportChoices: one named person only; an unknown person, a missing
// key or flag are errors and write nothing.
func checkExportChoices(t *testing.T, dir, cfg, key string, checks enrolfile.Checks) {
	t.Helper()
	one := filepath.Join(dir, "one.enrol")
	if _, err := enroll(t, "export", "-c", cfg, "-key", key, "-station", "desk-1", "-o", one, "emp-2"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(one)
	if b, err := enrolfile.Read(data, checks); err != nil || len(b.People) != 1 || b.People[0].ID != "emp-2" {
		t.Errorf("one person: %+v %v", b, err)
	}

	none := filepath.Join(dir, "none.enrol")
	for _, args := range [][]string{
		{"-c", cfg, "-key", key, "-station", "desk-1", "-o", none, "emp-2", "emp-9"},
		{"-c", cfg, "-key", filepath.Join(dir, "missing.key"), "-station", "desk-1", "-o", none},
		{"-c", cfg, "-key", key, "-o", none},
	} {
		if _, err := enroll(t, append([]string{"export"}, args...)...); err == nil {
			t.Errorf("export %v: no error", args)
		}
	}
	if _, err := enroll(t, "export", "-c", cfg, "-key", key, "-station", "desk-1", "-o", none, "emp-9"); err == nil ||
		!strings.Contains(err.Error(), `"emp-9" is not enrolled`) {
		t.Errorf("unknown person: %v", err)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s", none)
	}
}
