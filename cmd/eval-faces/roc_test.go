package main

import (
	"math"
	"reflect"
	"testing"
)

func TestRates(t *testing.T) {
	s := scores{genuine: []float64{0.2, 0.4, math.Inf(1)}, impostor: []float64{0.3, 0.6, 0.7, 0.8}}
	tests := []struct {
		t        float64
		far, frr float64
	}{
		{0.1, 0, 1},
		{0.3, 0.25, 2.0 / 3}, // distance equal to the threshold is a match
		{0.5, 0.25, 1.0 / 3},
		{1, 1, 1.0 / 3}, // no face found is always a rejection
	}
	for _, tt := range tests {
		far, frr := s.rates(tt.t)
		if far != tt.far || frr != tt.frr {
			t.Errorf("rates(%v) = %v, %v; want %v, %v", tt.t, far, frr, tt.far, tt.frr)
		}
	}
}

func TestMaxThreshold(t *testing.T) {
	s := scores{impostor: []float64{0.8, 0.3, 0.6, 0.7}}
	for _, tt := range []struct{ far, below float64 }{{0, 0.3}, {0.25, 0.6}, {0.5, 0.7}} {
		th := s.maxThreshold(tt.far)
		if !(th < tt.below) || th < tt.below-1e-12 {
			t.Errorf("maxThreshold(%v) = %v, want just below %v", tt.far, th, tt.below)
		}
		if far, _ := s.rates(th); far > tt.far {
			t.Errorf("maxThreshold(%v): FAR there %v", tt.far, far)
		}
	}
}

func TestChooseThreshold(t *testing.T) {
	// Separated: midway between the largest genuine and the smallest impostor.
	sep := scores{genuine: []float64{0.1, 0.4}, impostor: []float64{0.6, 0.9}}
	if got, _, _ := sep.chooseThreshold(); math.Abs(got-0.5) > 1e-9 {
		t.Errorf("separated: %v, want 0.5", got)
	}
	// Overlapping: no false accept first.
	ov := scores{genuine: []float64{0.1, 0.7}, impostor: []float64{0.6, 0.9}}
	got, _, _ := ov.chooseThreshold()
	if far, frr := ov.rates(got); far != 0 || frr != 0.5 {
		t.Errorf("overlapping: threshold %v gives FAR %v FRR %v, want 0 and 0.5", got, far, frr)
	}
}

func TestParseIDs(t *testing.T) {
	got, err := parseIDs("s1-s3, x")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"s1": true, "s2": true, "s3": true, "x": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"", "s3-s1", "s1-t3", "a-b"} {
		if _, err := parseIDs(bad); err == nil {
			t.Errorf("parseIDs(%q): no error", bad)
		}
	}
}

func TestVerify(t *testing.T) {
	samples := []sample{
		{id: "a", vec: []float32{0}}, {id: "a", vec: []float32{10}}, {id: "a", vec: []float32{1}},
		{id: "b", vec: []float32{5}}, {id: "b", vec: []float32{6}}, {id: "b", vec: nil},
	}
	att, err := verify(samples, []string{"a", "b"}, 2, func(x, y []float32) float64 { return math.Abs(float64(x[0] - y[0])) })
	if err != nil {
		t.Fatal(err)
	}
	want := []attempt{
		{"a", "a", 0, 1}, {"a", "b", 0, 4}, // min over a's templates {0, 10} and b's {5, 6}
		{"b", "a", 0, math.Inf(1)}, {"b", "b", 0, math.Inf(1)}, // no face: rejected everywhere
	}
	if !reflect.DeepEqual(att, want) {
		t.Errorf("got %v, want %v", att, want)
	}
	if _, err := verify([]sample{{id: "a"}, {id: "b", vec: []float32{1}}}, []string{"a", "b"}, 1, nil); err == nil {
		t.Error("an identity with nothing enrolled: no error")
	}
}
