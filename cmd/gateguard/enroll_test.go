package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

const orl = "../../../shared/testdata/faces/orl/"

// enrollConfig writes a config with a templates file (encrypted with a new
// key) in dir and returns its path.
func enrollConfig(t *testing.T, dir string) string {
	t.Helper()
	yunet, err := filepath.Abs(yunetModel)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "faces.key")
	if err := cmdEnroll([]string{"keygen", "-o", key}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`site: s
gate: g
credentials: {mode: presence}
mqtt: {enabled: false}
vision: {face_model: %s}
faces: {templates_file: faces.db, key_file: faces.key}
`, yunet)
	p := filepath.Join(dir, "gate.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func enroll(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, prog bytes.Buffer
	err := cmdEnroll(args, &out, &prog)
	return out.String() + prog.String(), err
}

// importRoster enrols a roster of two people (one bad photo, one turned)
// into a new gate's templates and returns the gate's folder and config.
func importRoster(t *testing.T) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	cfg = enrollConfig(t, dir)
	abs := func(p string) string { a, _ := filepath.Abs(orl + p); return a }
	notImage := filepath.Join(dir, "not-a-photo.jpg")
	_ = os.WriteFile(notImage, []byte("text"), 0o644)
	roster := filepath.Join(dir, "roster.csv")
	_ = os.WriteFile(roster, []byte("id,name,department,photo\n"+
		"emp-1,Ann,QA,"+abs("s1/1.pgm")+";"+abs("s1/2.pgm")+","+abs("s1/3.pgm")+"\n"+
		"emp-2,Ben,Ops,"+abs("s2/1.pgm")+",not-a-photo.jpg\n"), 0o644)
	out, err := enroll(t, "import", "-c", cfg, roster)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// ORL's s1/2.pgm is a real photo with the head turned (31°).
	for _, want := range []string{"photo 5/5 emp-2", "refused " + notImage + " (emp-2): unreadable",
		"s1/2.pgm (emp-1): turned: head turned 31°", "2 of 5 photo(s) refused", "enrolled 2 person(s) with 3 template(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	return dir, cfg
}

// TestEnrollImport: a roster is enrolled with every photo refused for its
// reason, into a file unreadable without the key.
func TestEnrollImport(t *testing.T) {
	dir, cfg := importRoster(t)
	raw, _ := os.ReadFile(filepath.Join(dir, "faces.db"))
	if bytes.Contains(raw, []byte(`"templates"`)) || bytes.Contains(raw, []byte("emp-1")) {
		t.Error("the templates file is readable without the key")
	}
	out, err := enroll(t, "list", "-c", cfg)
	if err != nil || !strings.Contains(out, "2 enrolled") || !strings.Contains(out, "emp-1\tAnn\tQA\t2 template(s)") ||
		!strings.Contains(out, "emp-2\tBen\tOps\t1 template(s)") {
		t.Errorf("list: %v\n%s", err, out)
	}
}

// TestEnrollNothingHalfWayRemoveWrongKey: a folder with no faces enrols
// nobody; remove; another key cannot read the file, and says so.
func TestEnrollNothingHalfWayRemoveWrongKey(t *testing.T) {
	dir, cfg := importRoster(t)
	blank := filepath.Join(dir, "blank")
	_ = os.Mkdir(blank, 0o755)
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(100, 100, 100, 0), 112, 92, gocv.MatTypeCV8UC1)
	gocv.IMWrite(filepath.Join(blank, "1.png"), m)
	m.Close()
	out, err := enroll(t, "add", "-c", cfg, "-id", "emp-3", blank)
	if err == nil || !strings.Contains(err.Error(), "no usable face in any photo of emp-3: nothing enrolled") ||
		!strings.Contains(out, "no_face") {
		t.Errorf("add from a folder without faces: %v\n%s", err, out)
	}
	if out, _ = enroll(t, "list", "-c", cfg); strings.Contains(out, "emp-3") || !strings.Contains(out, "2 enrolled") {
		t.Errorf("after a failed add:\n%s", out)
	}
	if out, err = enroll(t, "remove", "-c", cfg, "emp-2"); err != nil {
		t.Fatalf("remove: %v %s", err, out)
	}
	if _, err = enroll(t, "remove", "-c", cfg, "emp-2"); err == nil || !strings.Contains(err.Error(), `"emp-2" is not enrolled`) {
		t.Errorf("second remove: %v", err)
	}
	if out, _ = enroll(t, "list", "-c", cfg); !strings.Contains(out, "1 enrolled") {
		t.Errorf("after remove:\n%s", out)
	}
	_ = os.Remove(filepath.Join(dir, "faces.key"))
	if _, err := enroll(t, "keygen", "-o", filepath.Join(dir, "faces.key")); err != nil {
		t.Fatal(err)
	}
	if _, err = enroll(t, "list", "-c", cfg); err == nil || !strings.Contains(err.Error(), "wrong key") ||
		!strings.Contains(err.Error(), "faces.db") {
		t.Errorf("list with another key: %v", err)
	}
}

func TestEnrollBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := enrollConfig(t, dir)
	csvFile := func(body string) string {
		p := filepath.Join(t.TempDir(), "r.csv")
		_ = os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"roster without the header", []string{"import", "-c", cfg, csvFile("emp-1,Ann,QA,a.jpg\n")}, "the first row must be id,name,department,photo"},
		{"roster row too short", []string{"import", "-c", cfg, csvFile("id,name,department,photo\nemp-1,Ann\n")}, "line 2: want id,name,department,photo"},
		{"person twice", []string{"import", "-c", cfg, csvFile("id,name,department,photo\nemp-1,A,B,x.jpg\nemp-1,A,B,y.jpg\n")}, `"emp-1" appears twice`},
		{"person without photos", []string{"import", "-c", cfg, csvFile("id,name,department,photo\nemp-1,A,B,\n")}, `"emp-1" has no photos`},
		{"missing photo path", []string{"add", "-c", cfg, "-id", "x", filepath.Join(dir, "nope")}, "no such file"},
		{"no id", []string{"add", "-c", cfg, orl + "s1/1.pgm"}, "-id is required"},
		{"bad id", []string{"add", "-c", cfg, "-id", "a b", orl + "s1/1.pgm"}, `person id "a b"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := enroll(t, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "faces.db")); !os.IsNotExist(err) {
		t.Errorf("bad input wrote the templates file: %v", err)
	}
}
