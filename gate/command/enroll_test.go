package command

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func faceVerifier(t *testing.T, allow ...string) *Verifier {
	t.Helper()
	v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: &MemoryNonces{},
		Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: allow}},
		FaceModel: "faceapi-resnet128@0123", FaceDim: 4,
		Now: func() time.Time { return t0.Add(time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func enrollBody(f func(*Args)) Body {
	b := body(Enroll)
	b.Args = Args{Person: "emp-0042", Name: "Ada", Model: "faceapi-resnet128@0123", Descriptors: [][]float32{{0.1, 0.2, 0.3, 0.4}, {0.1, 0.2, 0.3, 0.5}}}
	if f != nil {
		f(&b.Args)
	}
	return b
}

// TestEnrollCommands: enroll carries descriptors of the gate's model and
// length; unenroll only a person; both need the enroll permission; every
// bad argument is a bad_args rejection naming what is wrong.
func TestEnrollCommands(t *testing.T) {
	v := faceVerifier(t, Enroll)
	got, err := v.Verify(Enroll, false, sign(t, enrollBody(nil), aliceSK))
	if err != nil {
		t.Fatal(err)
	}
	if got.Args.Person != "emp-0042" || len(got.Args.Descriptors) != 2 || got.Args.Descriptors[1][3] != 0.5 {
		t.Errorf("args %+v", got.Args)
	}
	un := body(Unenroll)
	un.Nonce = 11
	un.Args.Person = "emp-0042"
	if _, err := v.Verify(Unenroll, false, sign(t, un, aliceSK)); err != nil {
		t.Errorf("unenroll with the enroll permission: %v", err)
	}

	many := make([][]float32, MaxDescriptors+1)
	for i := range many {
		many[i] = []float32{1, 2, 3, 4}
	}
	tests := []struct {
		name   string
		v      *Verifier
		b      Body
		reason Reason
		want   string
	}{
		{"descriptor of the wrong length", v, enrollBody(func(a *Args) { a.Descriptors[1] = []float32{1, 2, 3} }),
			ReasonBadArgs, "args.descriptors[1] has 3 values, the gate's descriptor has 4"},
		{"another model", v, enrollBody(func(a *Args) { a.Model = "lbph@r1n8g8x8" }), ReasonBadArgs, `args.model "lbph@r1n8g8x8" is not this gate's descriptor`},
		{"no descriptors", v, enrollBody(func(a *Args) { a.Descriptors = nil }), ReasonBadArgs, "has 0 descriptors"},
		{"too many descriptors", v, enrollBody(func(a *Args) { a.Descriptors = many }), ReasonBadArgs, "has 21 descriptors"},
		{"bad person id", v, enrollBody(func(a *Args) { a.Person = "a b" }), ReasonBadArgs, `args.person "a b"`},
		{"no person", v, enrollBody(func(a *Args) { a.Person = "" }), ReasonBadArgs, `args.person ""`},
		{"unenroll with descriptors", v, func() Body {
			b := enrollBody(nil)
			b.Name = Unenroll
			return b
		}(), ReasonBadArgs, "unenroll takes only args.person"},
		{"descriptors on another command", faceVerifier(t, Open), func() Body {
			b := enrollBody(nil)
			b.Name = Open
			return b
		}(), ReasonBadArgs, "open takes no person"},
		{"no enroll permission", faceVerifier(t, Open), enrollBody(nil), ReasonNotPermitted, `may not use enroll`},
		{"unenroll without permission", faceVerifier(t, Open), func() Body {
			b := body(Unenroll)
			b.Args.Person = "emp-0042"
			return b
		}(), ReasonNotPermitted, `may not use unenroll`},
		{"gate without a descriptor", func() *Verifier {
			w := faceVerifier(t, Enroll)
			w.o.FaceDim = 0
			return w
		}(), enrollBody(nil), ReasonBadArgs, "no face descriptor configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(tt.b.Name, false, sign(t, tt.b, aliceSK))
			var r *Rejection
			if !errors.As(err, &r) || r.Reason != tt.reason || !strings.Contains(r.Detail, tt.want) {
				t.Errorf("Verify = %v; want %s naming %q", err, tt.reason, tt.want)
			}
		})
	}
}

// TestEnrollSize: an enroll command may be larger than other commands
// (it carries descriptors), up to MaxEnrollBytes.
func TestEnrollSize(t *testing.T) {
	v := faceVerifier(t, Enroll, Open)
	big := enrollBody(func(a *Args) {
		a.Descriptors = nil
		for range MaxDescriptors {
			a.Descriptors = append(a.Descriptors, []float32{0.123456789, -0.123456789, 0.987654321, -0.5})
		}
		a.Name = strings.Repeat("n", 128)
	})
	v.o.MaxBytes = 1024
	p := sign(t, big, aliceSK)
	if len(p) <= 1024 {
		t.Fatalf("test command only %d bytes", len(p))
	}
	if _, err := v.Verify(Enroll, false, p); err != nil {
		t.Errorf("enroll of %d bytes: %v", len(p), err)
	}
	if _, err := v.Verify(Open, false, p); err == nil || !strings.Contains(err.Error(), "oversized") {
		t.Errorf("the same bytes on open: %v", err)
	}
	v.o.MaxEnrollBytes = 1024
	if _, err := v.Verify(Enroll, false, p); err == nil || !strings.Contains(err.Error(), "oversized") {
		t.Errorf("over MaxEnrollBytes: %v", err)
	}
}
