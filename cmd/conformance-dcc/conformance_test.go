package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/vision/qr"
)

const dccDir = "../../../shared/testdata/dcc"

func newDecoder(t *testing.T) pictureDecoder {
	t.Helper()
	dec, err := qr.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dec.Close() })
	return pictureDecoderFor(dec)
}

// TestConformanceDefaultFolder is the proof the issue asks for: every
// checkable expectation of the member states' vectors is met.
func TestConformanceDefaultFolder(t *testing.T) {
	results, err := runDir(context.Background(), dccDir, newDecoder(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := report(&out, results, false)
	t.Log("\n" + out.String())
	if s.wrong != 0 {
		t.Errorf("%s: want wrong=0", s)
	}
	if s.files < 170 || s.checked < 160 {
		t.Errorf("%s: expected the full dgc-testdata set (≥170 files, ≥160 checked)", s)
	}
	last := strings.TrimSpace(out.String())
	last = last[strings.LastIndex(last, "\n")+1:]
	if last != s.String() {
		t.Errorf("last line %q, want %q", last, s)
	}
	// Every flag GateGuard claims to check was exercised, both ways where the
	// vectors have both.
	seen := map[string]map[bool]int{}
	for _, r := range results {
		for _, f := range r.flags {
			if f.outcome == pass {
				if seen[f.flag] == nil {
					seen[f.flag] = map[bool]int{}
				}
				seen[f.flag][f.expected]++
			}
		}
	}
	for _, f := range []string{"EXPECTEDPICTUREDECODE", "EXPECTEDUNPREFIX", "EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION",
		"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK", "EXPECTEDDECODE", "EXPECTEDKEYUSAGE"} {
		if seen[f][true] == 0 || seen[f][false] == 0 {
			t.Errorf("%s: passed %d true and %d false expectations; want both", f, seen[f][true], seen[f][false])
		}
	}
}

// TestConformanceCatchesWrongExpectation flips expectations on a valid file:
// the runner must call the file wrong, or its zero would prove nothing.
func TestConformanceCatchesWrongExpectation(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dccDir, "common", "CO3.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, flag := range []string{"EXPECTEDVERIFY", "EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION", "EXPECTEDDECODE"} {
		v["EXPECTEDRESULTS"] = map[string]any{flag: false}
		b, _ := json.Marshal(v)
		if err := os.MkdirAll(filepath.Join(dir, "deep", "er"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "deep", "er", flag+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"EXPECTEDRESULTS": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := runDir(context.Background(), dir, newDecoder(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := report(&out, results, false)
	if got, want := s.String(), "files=5 checked=4 wrong=4 skipped=1"; got != want {
		t.Errorf("got %q, want %q\n%s", got, want, out.String())
	}
}
