package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/command"
)

// TestCommandArgs: `gateguard command enroll PERSON PHOTO...` describes the
// photos with the gate's descriptor (refusing the turned one) and sends
// only descriptors; unenroll takes a person; wrong words are usage errors.
func TestCommandArgs(t *testing.T) {
	cfg := enrollConfig(t, t.TempDir())
	var prog bytes.Buffer
	a, err := commandArgs(command.Enroll, []string{"emp-9", orl + "s1/1.pgm", orl + "s1/2.pgm", orl + "s1/3.pgm"},
		commandFlags{config: cfg}, &prog)
	if err != nil {
		t.Fatalf("%v\n%s", err, prog.String())
	}
	if a.Person != "emp-9" || a.Model != "lbph-weak-fallback@r1n8g8x8" || len(a.Descriptors) != 2 || !strings.Contains(prog.String(), "turned") {
		t.Errorf("args person %q model %q %d descriptors\n%s", a.Person, a.Model, len(a.Descriptors), prog.String())
	}
	if a, err := commandArgs(command.Unenroll, []string{"emp-9"}, commandFlags{}, &prog); err != nil || a.Person != "emp-9" {
		t.Errorf("unenroll: %+v %v", a, err)
	}
	for _, bad := range [][]string{{command.Enroll, "emp-9"}, {command.Unenroll}, {command.Open, "x"}, {command.SetMode}} {
		if _, err := commandArgs(bad[0], bad[1:], commandFlags{config: cfg}, &prog); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if _, err := commandArgs(command.Enroll, []string{"emp-9", orl + "s1/1.pgm"}, commandFlags{}, &prog); err == nil ||
		!strings.Contains(err.Error(), "-c CONFIG is required") {
		t.Errorf("enroll without a config: %v", err)
	}
}

// TestCommandReasonFlag: -reason goes into the signed args; -override
// needs it; a reason the gate would reject, or on a command that takes
// none, is a usage error naming -reason before anything is signed.
func TestCommandReasonFlag(t *testing.T) {
	why := "clinic rechecked: 36.9 °C (王伟 asked)"
	a, err := commandArgs(command.Open, nil, commandFlags{override: true, reason: why}, io.Discard)
	if err != nil || !a.Override || a.Reason != why {
		t.Fatalf("open -override -reason: %+v %v", a, err)
	}
	if a, err := commandArgs(command.SetMode, []string{"maintenance"}, commandFlags{reason: "cleaning"}, io.Discard); err != nil || a.Reason != "cleaning" {
		t.Errorf("set_mode -reason: %+v %v", a, err)
	}
	for _, tt := range []struct {
		name string
		f    commandFlags
		want string
	}{
		{command.Open, commandFlags{override: true}, "-override needs -reason"},
		{command.Open, commandFlags{override: true, reason: " "}, "-override needs -reason"},
		{command.Open, commandFlags{reason: strings.Repeat("x", command.MaxReason+1)}, "-reason: args.reason is 201 characters"},
		{command.Open, commandFlags{reason: "two\nlines"}, "-reason: args.reason holds a control character"},
		{command.GetState, commandFlags{reason: "why not"}, "-reason goes with open and set_mode only"},
	} {
		_, err := commandArgs(tt.name, nil, tt.f, io.Discard)
		var u usageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %+v: err = %v, want a usage error containing %q", tt.name, tt.f, err, tt.want)
		}
	}
}

// TestEnrollCommandFitsWithResNet: with the ResNet, an enroll command of
// the most descriptors a command may carry fits the gate's enroll size
// limit and passes its verifier.
func TestEnrollCommandFitsWithResNet(t *testing.T) {
	model := faceModel(t)
	if model == "" {
		t.Skip("no face-api weights installed (make deps fetches them; make test sets GATEGUARD_REQUIRE_FACENET, which fails instead of skipping)")
	}
	cfgPath := enrollConfig(t, t.TempDir())
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Faces.Model = model
	raw, _ := os.ReadFile(cfgPath)
	_ = os.WriteFile(cfgPath, []byte(strings.Replace(string(raw), "faces: {", "faces: {model: "+model+", ", 1)), 0o644)
	var prog bytes.Buffer
	a, err := commandArgs(command.Enroll, []string{"emp-9", orl + "s1/1.pgm"}, commandFlags{config: cfgPath}, &prog)
	if err != nil {
		t.Fatalf("%v\n%s", err, prog.String())
	}
	for len(a.Descriptors) < command.MaxDescriptors {
		a.Descriptors = append(a.Descriptors, a.Descriptors[0])
	}
	var cl closers
	defer cl.close(testLog())
	fp, err := openFaces(cfg, testLog(), &cl)
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	o := command.Options{Site: "s", Gate: "g", Nonces: &command.MemoryNonces{}, MaxBytes: 4096,
		Operators: []command.Operator{{ID: "console", Key: pub, Allow: []string{command.PermEnroll}}}}
	fp.commandOpts(&o)
	v, err := command.NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := command.Sign(command.Body{ID: "r", Name: command.Enroll, Site: "s", Gate: "g", Operator: "console",
		Nonce: uint64(now.UnixMicro()), Issued: now, Expires: now.Add(time.Minute), Args: a}, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(command.Enroll, false, p); err != nil {
		t.Errorf("enroll of %d descriptors (%d bytes): %v", len(a.Descriptors), len(p), err)
	}
	t.Logf("an enroll command of %d ResNet descriptors is %d bytes", len(a.Descriptors), len(p))
}
