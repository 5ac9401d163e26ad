// Package gatetest holds fakes of the gate's ports for tests: a turnstile
// that records its calls, a recorder that can be made to fail, a
// thermometer with a set reading, and a face matcher over fixed templates.
package gatetest

import (
	"errors"
	"image"
	"sync"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

// Turnstile records Release, Free and Secure calls.
type Turnstile struct {
	mu    sync.Mutex // guards the fields below
	calls []string
	// Err, when set, is returned by every call.
	Err error
}

var _ gate.Turnstile = (*Turnstile)(nil)

func (t *Turnstile) call(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, name)
	return t.Err
}

// Release records "release".
func (t *Turnstile) Release() error { return t.call("release") }

// Free records "free".
func (t *Turnstile) Free() error { return t.call("free") }

// Secure records "secure".
func (t *Turnstile) Secure() error { return t.call("secure") }

// Calls returns the calls so far.
func (t *Turnstile) Calls() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.calls...)
}

// Recorder keeps every message; Fail makes Record fail.
type Recorder struct {
	mu   sync.Mutex // guards the fields below
	msgs []gate.Message
	fail bool
}

var _ gate.Recorder = (*Recorder)(nil)

// ErrUnwritable is returned by a failing Recorder.
var ErrUnwritable = errors.New("gatetest: outbox unwritable")

// Record keeps m, or fails with ErrUnwritable.
func (r *Recorder) Record(m gate.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return ErrUnwritable
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Fail makes later Records fail (true) or succeed.
func (r *Recorder) Fail(f bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = f
}

// Depth returns the number of messages kept.
func (r *Recorder) Depth() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// LastSeq returns the last message's sequence number.
func (r *Recorder) LastSeq() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		return 0
	}
	return r.msgs[len(r.msgs)-1].Seq
}

// Messages returns the messages kept.
func (r *Recorder) Messages() []gate.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gate.Message(nil), r.msgs...)
}

// Thermometer returns Reading (or Err) for every face, or the reading set
// for a face's box with SetFor.
type Thermometer struct {
	mu      sync.Mutex // guards the fields below
	reading gate.Reading
	err     error
	byBox   map[image.Rectangle]gate.Reading
}

// SetFor sets the reading of the face with the given box.
func (t *Thermometer) SetFor(box image.Rectangle, r gate.Reading) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byBox == nil {
		t.byBox = map[image.Rectangle]gate.Reading{}
	}
	t.byBox[box] = r
}

// Set sets the next readings.
func (t *Thermometer) Set(r gate.Reading, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reading, t.err = r, err
}

// Measure returns the set reading.
func (t *Thermometer) Measure(_ *thermal.Frame, f vision.Face, _ image.Point) (gate.Reading, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.byBox[f.Box]; ok {
		return r, nil
	}
	return t.reading, t.err
}
