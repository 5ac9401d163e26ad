package gate_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gateguard/gateguard/gate"
)

// countingMetrics records what the controller counts.
type countingMetrics struct {
	mu        sync.Mutex // guards the fields below
	decisions []string
	skin      []float64
	faults    []string
}

func (m *countingMetrics) Decided(decision string, reasons []gate.Reason, r *gate.Reading) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := decision
	for _, rs := range reasons {
		s += ":" + string(rs)
	}
	m.decisions = append(m.decisions, s)
	if r != nil {
		m.skin = append(m.skin, r.SkinC)
	}
}

func (m *countingMetrics) DeviceFault(device string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, device)
}

// TestMetricsCountDecisions: each decision is counted once with its reasons
// and reading, a device fault once when it starts.
func TestMetricsCountDecisions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &countingMetrics{}
		h := newHarness(t, func(o *gate.Options) { o.Metrics = m })
		h.therm.Set(gate.Reading{SkinC: 38.2, CoreC: 38.2}, nil)
		h.thermal()
		h.observe("bob", true)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		h.ctrl.DeviceHealth(t.Context(), gate.DeviceThermal, errors.New("frozen"))
		h.ctrl.DeviceHealth(t.Context(), gate.DeviceThermal, errors.New("frozen"))
		synctest.Wait()
		h.shutdown()
		if want := []string{"denied:fever", "admitted:insecure_credential"}; !slices.Equal(m.decisions, want) {
			t.Errorf("decisions %q, want %q", m.decisions, want)
		}
		if want := []float64{38.2, 36.5}; !slices.Equal(m.skin, want) {
			t.Errorf("skin %v, want %v", m.skin, want)
		}
		if want := []string{gate.DeviceThermal}; !slices.Equal(m.faults, want) {
			t.Errorf("faults %q, want %q", m.faults, want)
		}
	})
}
