package gatetest

import (
	"math"
	"sort"
	"sync"

	"github.com/gateguard/gateguard/gate"
)

// Faces is a gate.FaceMatcher over templates set with Enroll, compared by
// euclidean distance with Threshold.
type Faces struct {
	// Threshold is the largest distance of a match.
	Threshold float64

	mu        sync.Mutex // guards the fields below
	templates map[string][][]float32
}

var _ gate.FaceMatcher = (*Faces)(nil)

// Enroll adds descriptors to person's templates.
func (f *Faces) Enroll(person string, ds ...[]float32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.templates == nil {
		f.templates = map[string][][]float32{}
	}
	f.templates[person] = append(f.templates[person], ds...)
}

// Enrolled reports whether person has templates.
func (f *Faces) Enrolled(person string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.templates[person]) > 0
}

// Verify compares d with person's templates.
func (f *Faces) Verify(person string, d []float32) (gate.FaceMatch, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.verify(person, d)
}

func (f *Faces) verify(person string, d []float32) (gate.FaceMatch, bool) {
	ts := f.templates[person]
	best := math.Inf(1)
	for _, t := range ts {
		best = math.Min(best, distance(t, d))
	}
	if math.IsInf(best, 1) {
		return gate.FaceMatch{}, false
	}
	return gate.FaceMatch{Person: person, Match: best <= f.Threshold, Distance: best, Threshold: f.Threshold}, true
}

// Identify finds the enrolled person nearest d (ties: the first by id).
func (f *Faces) Identify(d []float32) (gate.FaceMatch, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.templates))
	for id := range f.templates {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var best gate.FaceMatch
	found := false
	for _, id := range ids {
		if m, ok := f.verify(id, d); ok && (!found || m.Distance < best.Distance) {
			best, found = m, true
		}
	}
	return best, found
}

func distance(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return math.Inf(1)
	}
	var s float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		s += x * x
	}
	return math.Sqrt(s)
}
