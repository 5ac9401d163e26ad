package gate_test

import (
	"testing"
	"testing/synctest"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/gate"
)

// TestLaneSignals: the lane observer hears of the code, of a face too far
// while checking (and of it clearing), of the decision exactly as recorded,
// of the opening, the passage and a mode change.
func TestLaneSignals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sigs []gate.LaneSignal
		h := newHarness(t, func(o *gate.Options) {
			o.LaneObserver = gate.LaneObserverFunc(func(s gate.LaneSignal) { sigs = append(sigs, s) })
		})
		h.therm.Set(gate.Reading{}, thermal.ErrTooFar)
		h.thermal()
		h.observe("alice", true)
		h.observe("alice", true) // the same hint again: not signalled twice
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		h.input(gate.InputPassage, true)
		h.ctrl.SetMode(t.Context(), gate.ModeLocked)
		synctest.Wait()
		h.shutdown()

		type sig struct {
			lane     string
			mode     gate.Mode
			hint     gate.Reason
			decision string
		}
		var got []sig
		for i, s := range sigs {
			if s.Seq != uint64(i+1) {
				t.Errorf("signal %d has seq %d", i, s.Seq)
			}
			d := ""
			if s.Entry != nil {
				d = s.Entry.Decision
				if s.Admitted != (d == "admitted") {
					t.Errorf("signal %d: decision %s, admitted %v", i, d, s.Admitted)
				}
			}
			got = append(got, sig{s.Lane, s.Mode, s.Hint, d})
		}
		want := []sig{
			{gate.LaneIdle, gate.ModeNormal, "", ""},
			{gate.LaneChecking, gate.ModeNormal, "", ""},
			{gate.LaneChecking, gate.ModeNormal, gate.ReasonTooFar, ""},
			{gate.LaneChecking, gate.ModeNormal, "", ""}, // measured: the hint clears
			{gate.LaneOpen, gate.ModeNormal, "", "admitted"},
			{gate.LaneIdle, gate.ModeNormal, "", ""},
			{gate.LaneIdle, gate.ModeLocked, "", ""},
		}
		if len(got) != len(want) {
			t.Fatalf("signals %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("signal %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		// The decision signalled is the one recorded.
		if ev := sigs[4].Entry; ev == nil || ev.ID != h.rec.Messages()[0].ID {
			t.Errorf("signalled entry %+v is not the recorded one", ev)
		}
	})
}

// TestLaneSignalRecordFailure: an admission that could not be recorded is
// denied, and the lane is told so.
func TestLaneSignalRecordFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var last gate.LaneSignal
		h := newHarness(t, func(o *gate.Options) {
			o.LaneObserver = gate.LaneObserverFunc(func(s gate.LaneSignal) {
				if s.Entry != nil {
					last = s
				}
			})
		})
		h.rec.Fail(true)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.observe("alice", true)
		h.shutdown()
		if last.Entry == nil || last.Admitted || last.Entry.Decision != "denied" {
			t.Errorf("signal %+v, want a denial", last)
		}
	})
}
