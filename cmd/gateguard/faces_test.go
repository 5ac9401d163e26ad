package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/vision/facerec"
)

// fakeDescriptor describes every chip as the same 4 numbers.
type fakeDescriptor struct{}

func (fakeDescriptor) Name() string                      { return "fake" }
func (fakeDescriptor) ModelID() string                   { return "fake@1" }
func (fakeDescriptor) Embed(gocv.Mat) ([]float32, error) { return []float32{1, 2, 3, 4}, nil }
func (fakeDescriptor) Distance(a, b []float32) float64   { return facerec.Distance(a, b) }
func (fakeDescriptor) Threshold() float64                { return 0.5 }
func (fakeDescriptor) Close() error                      { return nil }

var _ facerec.Descriptor = fakeDescriptor{}

// TestEnrollCommandHandling: an enroll command signed for the gate's model
// and length passes the verifier the faces configure and enrols the
// person; unenroll removes them; a gate without templates refuses.
func TestEnrollCommandHandling(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fp, err := openStore(configs.Faces{TemplatesFile: filepath.Join(t.TempDir(), "faces.db")}, fakeDescriptor{})
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	o := command.Options{Site: "s", Gate: "g", Nonces: &command.MemoryNonces{}, Now: func() time.Time { return now },
		Operators: []command.Operator{{ID: "console", Key: pub, Allow: []string{command.PermEnroll}}}}
	fp.commandOpts(&o)
	v, err := command.NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	send := func(name string, nonce uint64, a command.Args) (*command.Body, error) {
		b := command.Body{ID: "r1", Name: name, Site: "s", Gate: "g", Operator: "console", Nonce: nonce,
			Issued: now, Expires: now.Add(time.Minute), Args: a}
		p, err := command.Sign(b, key)
		if err != nil {
			t.Fatal(err)
		}
		return v.Verify(name, false, p)
	}
	_, err = send(command.Enroll, 1, command.Args{Person: "emp-7", Model: "fake@1", Descriptors: [][]float32{{1, 2, 3}}})
	if err == nil || !strings.Contains(err.Error(), "args.descriptors[0] has 3 values, the gate's descriptor has 4") {
		t.Fatalf("wrong length: %v", err)
	}
	b, err := send(command.Enroll, 2, command.Args{Person: "emp-7", Name: "Eve", Model: "fake@1", Descriptors: [][]float32{{1, 2, 3, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := fp.handleEnroll(b, log); r.Status != command.StatusOK || !fp.store.Enrolled("emp-7") {
		t.Fatalf("enroll: %+v", r)
	}
	if m, ok := fp.matcher().Verify("emp-7", []float32{1, 2, 3, 4}); !ok || !m.Match {
		t.Errorf("enrolled face does not match: %+v", m)
	}
	b, err = send(command.Unenroll, 3, command.Args{Person: "emp-7"})
	if err != nil {
		t.Fatal(err)
	}
	if r := fp.handleEnroll(b, log); r.Status != command.StatusOK || r.Detail != "unenrolled" || fp.store.Enrolled("emp-7") {
		t.Errorf("unenroll: %+v", r)
	}
	if r := fp.handleEnroll(b, log); r.Detail != "was not enrolled" {
		t.Errorf("second unenroll: %+v", r)
	}
	none := &faceParts{}
	if r := none.handleEnroll(b, log); r.Status != command.StatusFailed || r.Reason != "no_templates_file" {
		t.Errorf("without templates: %+v", r)
	}
	if none.matcher() != nil {
		t.Error("a matcher without templates")
	}
}
