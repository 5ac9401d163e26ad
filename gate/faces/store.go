// Package faces keeps the gate's enrolled face templates and matches faces
// against them: the FaceMatcher port of the gate core (1:1 Verify for a
// credential's holder, 1:N Identify for face-only entry).
//
// Templates are descriptors (vision/facerec), never images. They live only
// on the device, in one file written atomically (a temporary file, fsync,
// rename, fsync of the folder), encrypted at rest with AES-256-GCM when a key
// is configured. The file records the descriptor's ModelID and length: a
// file enrolled with another model, read with a wrong key, or a plain file
// where a key is configured is refused with an error that says which. Every
// change (Put, PutAll, Remove) is written before it is visible, and either
// all of it is written or none.
//
// It is pure Go; cmd/gateguard builds it from the config and the
// enrolment commands (gateguard enroll, the signed enroll and unenroll
// commands) change it.
package faces

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// Format names the templates file's format (inside its JSON).
const Format = "gateguard-face-templates/1"

// MaxTemplates is how many templates one person may have.
const MaxTemplates = 20

// Person is one enrolled person.
type Person struct {
	// ID is the person's id: the holder a credential names.
	ID string `json:"id"`
	// Name and Department are for the operator's listings.
	Name       string `json:"name,omitempty"`
	Department string `json:"department,omitempty"`
	// Templates are the person's descriptors, one per accepted photo.
	Templates [][]float32 `json:"templates"`
	// Enrolled is when the person was last enrolled.
	Enrolled time.Time `json:"enrolled"`
}

// Options configures a Store.
type Options struct {
	// Path is the templates file. A missing file is an empty store.
	Path string
	// Key, when set, is the 32-byte AES-256 key the file is encrypted with
	// (LoadKey reads one); nil keeps the file in plain JSON.
	Key []byte
	// ModelID is the descriptor's ModelID: templates of another model are
	// refused.
	ModelID string
	// Dim is the descriptor's length.
	Dim int
	// Threshold is the largest distance of a match.
	Threshold float64
	// Distance compares two descriptors; nil is the euclidean distance.
	Distance func(a, b []float32) float64
	// MeanTemplate compares a face with the mean of a person's templates
	// instead of the nearest one (the ResNet descriptor's rule, chosen on
	// ORL s1–s12, docs/face-verification.md); LBPH keeps the nearest.
	MeanTemplate bool
}

// Store holds the enrolled templates. It is safe for concurrent use: the
// gate matches while enrolment changes it.
type Store struct {
	o Options

	mu     sync.RWMutex // guards people and writes to the file
	people map[string]Person
}

var _ gate.FaceMatcher = (*Store)(nil)

// Errors a Store returns (wrapped, with the file named).
var (
	ErrWrongKey    = errors.New("faces: wrong key (or the file was altered): authentication failed")
	ErrNeedsKey    = errors.New("faces: the file is encrypted and no key is configured")
	ErrNotEncrypt  = errors.New("faces: a key is configured but the file is not encrypted (refused: anyone could have written it)")
	ErrOtherModel  = errors.New("faces: templates were enrolled with another model")
	ErrBadTemplate = errors.New("faces: bad template")
)

// fileBody is the JSON inside the file (encrypted or not).
type fileBody struct {
	Format  string   `json:"format"`
	ModelID string   `json:"model_id"`
	Dim     int      `json:"dim"`
	People  []Person `json:"people"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,64}$`)

// Open reads the templates file at o.Path, or starts an empty store when
// there is none.
func Open(o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("faces: no templates file configured")
	}
	if o.ModelID == "" || o.Dim <= 0 {
		return nil, errors.New("faces: the descriptor's model id and length are required")
	}
	if o.Key != nil && len(o.Key) != KeySize {
		return nil, fmt.Errorf("faces: key is %d bytes, want %d", len(o.Key), KeySize)
	}
	if o.Distance == nil {
		o.Distance = euclidean
	}
	s := &Store{o: o, people: map[string]Person{}}
	data, err := os.ReadFile(o.Path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("faces: templates file: %w", err)
	}
	people, err := s.decode(data)
	if err != nil {
		return nil, fmt.Errorf("faces: templates file %s: %w", o.Path, err)
	}
	for _, p := range people {
		s.people[p.ID] = p
	}
	return s, nil
}

// Reload re-reads the file (after `gateguard enroll` changed it while the
// daemon ran). On an error the templates in memory stay as they were.
func (s *Store) Reload() error {
	data, err := os.ReadFile(s.o.Path)
	if errors.Is(err, os.ErrNotExist) {
		data = nil
	} else if err != nil {
		return fmt.Errorf("faces: templates file: %w", err)
	}
	next := map[string]Person{}
	if data != nil {
		people, err := s.decode(data)
		if err != nil {
			return fmt.Errorf("faces: templates file %s: %w", s.o.Path, err)
		}
		for _, p := range people {
			next[p.ID] = p
		}
	}
	s.mu.Lock()
	s.people = next
	s.mu.Unlock()
	return nil
}

func (s *Store) decode(data []byte) ([]Person, error) {
	encrypted := isSealed(data)
	switch {
	case encrypted && s.o.Key == nil:
		return nil, ErrNeedsKey
	case !encrypted && s.o.Key != nil:
		return nil, ErrNotEncrypt
	case encrypted:
		var err error
		if data, err = open(s.o.Key, data); err != nil {
			return nil, err
		}
	}
	var b fileBody
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not a templates file: %w", err)
	}
	if b.Format != Format {
		return nil, fmt.Errorf("format %q, want %q", b.Format, Format)
	}
	if b.ModelID != s.o.ModelID {
		return nil, fmt.Errorf("%w: the file's model is %q, this gate's descriptor is %q: enrol everyone again with this model", ErrOtherModel, b.ModelID, s.o.ModelID)
	}
	if b.Dim != s.o.Dim {
		return nil, fmt.Errorf("%w: the file's descriptors have %d values, this descriptor %d", ErrOtherModel, b.Dim, s.o.Dim)
	}
	seen := map[string]bool{}
	for _, p := range b.People {
		if err := s.check(p); err != nil {
			return nil, err
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("person %q appears twice", p.ID)
		}
		seen[p.ID] = true
	}
	return b.People, nil
}

// check validates one person's record.
func (s *Store) check(p Person) error {
	if !idPattern.MatchString(p.ID) {
		return fmt.Errorf("%w: person id %q must be 1–64 letters, digits or . _ @ : -", ErrBadTemplate, p.ID)
	}
	if len(p.Templates) == 0 || len(p.Templates) > MaxTemplates {
		return fmt.Errorf("%w: person %q has %d templates, want 1–%d", ErrBadTemplate, p.ID, len(p.Templates), MaxTemplates)
	}
	for i, t := range p.Templates {
		if len(t) != s.o.Dim {
			return fmt.Errorf("%w: person %q template %d has %d values, the descriptor has %d", ErrBadTemplate, p.ID, i+1, len(t), s.o.Dim)
		}
		for _, v := range t {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: person %q template %d has a non-finite value", ErrBadTemplate, p.ID, i+1)
			}
		}
	}
	return nil
}

// Put enrols one person, replacing any earlier record of theirs, and saves.
func (s *Store) Put(p Person) error { return s.PutAll([]Person{p}) }

// PutAll enrols several people at once: every record is checked first and
// the file is written once; on any error nothing changes.
func (s *Store) PutAll(ps []Person) error {
	for _, p := range ps {
		if err := s.check(p); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps(s.people)
	for _, p := range ps {
		if p.Enrolled.IsZero() {
			p.Enrolled = time.Now().UTC()
		}
		next[p.ID] = p
	}
	if err := s.save(next); err != nil {
		return err
	}
	s.people = next
	return nil
}

// Remove unenrols a person and saves; it reports whether they were enrolled.
func (s *Store) Remove(id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.people[id]; !ok {
		return false, nil
	}
	next := maps(s.people)
	delete(next, id)
	if err := s.save(next); err != nil {
		return false, err
	}
	s.people = next
	return true, nil
}

// List returns the enrolled people sorted by id.
func (s *Store) List() []Person {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Person, 0, len(s.people))
	for _, p := range s.people {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Len returns how many people are enrolled.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.people)
}

// Enrolled reports whether person has templates.
func (s *Store) Enrolled(person string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.people[person]
	return ok
}

// Verify compares d with person's templates (1:1): the smallest distance.
func (s *Store) Verify(person string, d []float32) (gate.FaceMatch, bool) {
	if len(d) != s.o.Dim {
		return gate.FaceMatch{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.people[person]
	if !ok {
		return gate.FaceMatch{}, false
	}
	return s.match(p, d), true
}

// Identify finds the enrolled person nearest d (1:N).
func (s *Store) Identify(d []float32) (gate.FaceMatch, bool) {
	if len(d) != s.o.Dim {
		return gate.FaceMatch{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best gate.FaceMatch
	found := false
	for _, p := range s.people {
		m := s.match(p, d)
		if !found || m.Distance < best.Distance || (m.Distance == best.Distance && m.Person < best.Person) {
			best, found = m, true
		}
	}
	return best, found
}

func (s *Store) match(p Person, d []float32) gate.FaceMatch {
	best := math.Inf(1)
	if s.o.MeanTemplate && len(p.Templates) > 0 {
		best = s.o.Distance(meanOf(p.Templates), d)
	} else {
		for _, t := range p.Templates {
			best = math.Min(best, s.o.Distance(t, d))
		}
	}
	return gate.FaceMatch{Person: p.ID, Match: best <= s.o.Threshold, Distance: best, Threshold: s.o.Threshold}
}

// meanOf returns the element-wise mean of ts (all of one length).
func meanOf(ts [][]float32) []float32 {
	m := make([]float32, len(ts[0]))
	for _, t := range ts {
		for i := range m {
			m[i] += t[i] / float32(len(ts))
		}
	}
	return m
}

func maps(m map[string]Person) map[string]Person {
	out := make(map[string]Person, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// save writes people to the file atomically: the old file stays whole until
// the new one is complete on disk.
func (s *Store) save(people map[string]Person) error {
	b := fileBody{Format: Format, ModelID: s.o.ModelID, Dim: s.o.Dim, People: make([]Person, 0, len(people))}
	for _, p := range people {
		b.People = append(b.People, p)
	}
	slices.SortFunc(b.People, func(x, y Person) int { return strings.Compare(x.ID, y.ID) })
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("faces: encode: %w", err)
	}
	if s.o.Key != nil {
		if data, err = seal(s.o.Key, data); err != nil {
			return err
		}
	}
	if err := writeAtomic(s.o.Path, data); err != nil {
		return fmt.Errorf("faces: templates file %s: %w", s.o.Path, err)
	}
	return nil
}

// crash is a test seam: called at each step of writeAtomic; an error stops
// the write there, as a crash would.
var crash = func(step string) error { return nil }

// writeAtomic writes data to a temporary file beside path, fsyncs it,
// renames it over path and fsyncs the folder.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return err
	}
	half := len(data) / 2
	if _, err := f.Write(data[:half]); err != nil {
		return fail(err)
	}
	if err := crash("half-written"); err != nil {
		_ = f.Close() // a crash leaves the temporary file behind
		return err
	}
	if _, err := f.Write(data[half:]); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := crash("synced"); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func euclidean(a, b []float32) float64 {
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
