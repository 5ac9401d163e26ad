package gate_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
)

// admissions records what the controller tells its AdmissionSink.
type admissions struct {
	mu      sync.Mutex
	holders []string
}

func (a *admissions) Admitted(c gate.Credential, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.holders = append(a.holders, c.Holder)
}

func (a *admissions) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.holders...)
}

// TestAdmissionSink: the sink hears of admissions only, after they are
// recorded, never of denials.
func TestAdmissionSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &admissions{}
		h := newHarness(t, func(o *gate.Options) { o.Admissions = sink })
		h.therm.Set(gate.Reading{SkinC: 38.5, CoreC: 38.5}, nil)
		h.thermal()
		h.observe("bob", true)
		h.want("entry:denied:fever", "alert:fever:new")
		if got := sink.got(); len(got) != 0 {
			t.Fatalf("told of a denial: %v", got)
		}
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		if got := sink.got(); len(got) != 1 || got[0] != "alice" {
			t.Fatalf("admissions %v, want [alice]", got)
		}
		if n := len(h.rec.Messages()); n != 3 {
			t.Fatalf("%d messages recorded before the sink was told", n)
		}
		h.shutdown()
	})
}
