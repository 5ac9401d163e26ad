package enrolfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

const model = "facenet+mirror@0123456789abcdef"

func descriptors(n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(i+j) / 1000
		}
	}
	return out
}

func goodBody() Body {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return Body{Station: "desk-1", Exported: at, Model: model, Dim: 4, People: []Person{
		{ID: "emp-1", Name: "Li Wei", Department: "Assembly", Enrolled: at, Descriptors: descriptors(3, 4)},
		{ID: "emp-2", Enrolled: at, Descriptors: descriptors(1, 4)},
	}}
}

func keys(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func checks(pub ed25519.PublicKey) Checks {
	roster := map[string]bool{"emp-1": true, "emp-2": true, "emp-3": true}
	return Checks{Stations: map[string]ed25519.PublicKey{"desk-1": pub}, Model: model, Dim: 4,
		OnRoster: func(id string) bool { return roster[id] }}
}

func TestRoundTrip(t *testing.T) {
	pub, priv := keys(t)
	data, err := Sign(goodBody(), priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(data, checks(pub))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.People) != 2 || b.People[0].ID != "emp-1" || b.People[0].Name != "Li Wei" || len(b.People[0].Descriptors) != 3 ||
		b.People[0].Descriptors[2][3] != descriptors(3, 4)[2][3] || !b.People[1].Enrolled.Equal(goodBody().People[1].Enrolled) {
		t.Errorf("read back %+v", b)
	}
}

// TestRefused: each bad file is refused naming what is wrong.
func TestRefused(t *testing.T) {
	pub, priv := keys(t)
	_, other := keys(t)
	sign := func(edit func(*Body)) []byte {
		b := goodBody()
		edit(&b)
		data, err := Sign(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []string
	}{
		{"not JSON", []byte("id,name\n"), []string{"not an enrolment file"}},
		{"other format", []byte(`{"format":"gateguard-face-templates/1","body":{},"sig":""}`), []string{`format "gateguard-face-templates/1"`}},
		{"unknown station", sign(func(b *Body) { b.Station = "garage" }), []string{`station "garage"`, "not in console.enrolment.stations"}},
		{"signed with another key", func() []byte {
			data, _ := Sign(goodBody(), other)
			return data
		}(), []string{"does not verify"}},
		{"edited after signing", bytes.Replace(sign(func(*Body) {}), []byte(`"emp-2"`), []byte(`"emp-3"`), 1), []string{"does not verify"}},
		{"wrong model", sign(func(b *Body) { b.Model = "lbph@r1n8g8x8" }), []string{`model "lbph@r1n8g8x8" is not the gates' model`}},
		{"wrong descriptor length", sign(func(b *Body) { b.People[1].Descriptors = descriptors(2, 5) }),
			[]string{"people[1] (emp-2): descriptors[0] has 5 values, the gates' descriptor has 4", "descriptors[1] has 5 values"}},
		{"too many descriptors", sign(func(b *Body) { b.People[0].Descriptors = descriptors(21, 4) }), []string{"people[0] (emp-1): 21 descriptors, want 1–20"}},
		{"no descriptors", sign(func(b *Body) { b.People[0].Descriptors = nil }), []string{"people[0] (emp-1): 0 descriptors"}},
		{"not on the roster", sign(func(b *Body) { b.People[1].ID = "visitor-9" }), []string{"people[1] (visitor-9): not on the roster"}},
		{"duplicate", sign(func(b *Body) { b.People[1].ID = "emp-1" }), []string{"people[1] (emp-1): appears twice (also people[0])"}},
		{"bad id", sign(func(b *Body) { b.People[1].ID = "emp 2" }), []string{`people[1]: id "emp 2"`}},
		{"nobody", sign(func(b *Body) { b.People = nil }), []string{"nobody in the file"}},
		{"two problems at once", sign(func(b *Body) { b.People[0].ID = "x y"; b.People[1].Descriptors = descriptors(1, 3) }),
			[]string{`id "x y"`, "people[1] (emp-2): descriptors[0] has 3 values"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Read(tc.data, checks(pub))
			if err == nil || b != nil {
				t.Fatalf("accepted: %+v", b)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not wrap ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestSignRefusesNonFinite: a descriptor with Inf cannot be written (JSON
// has no Inf), so no file ever carries one.
func TestSignRefusesNonFinite(t *testing.T) {
	_, priv := keys(t)
	b := goodBody()
	b.People[0].Descriptors[0][0] = float32(math.NaN())
	if _, err := Sign(b, priv); err == nil {
		t.Fatal("signed a NaN descriptor")
	}
	if _, err := Sign(goodBody(), priv[:10]); err == nil {
		t.Fatal("signed with a short key")
	}
}

func TestTooLarge(t *testing.T) {
	pub, _ := keys(t)
	_, err := Read(make([]byte, MaxBytes+1), checks(pub))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("at most %d", MaxBytes)) {
		t.Fatalf("err %v", err)
	}
}
