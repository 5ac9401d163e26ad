package lane_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/lane"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// collect reads a subscription into a slice until it closes.
func collect(c <-chan lane.State) *[]lane.State {
	var got []lane.State
	go func() {
		for st := range c {
			got = append(got, st)
		}
	}()
	return &got
}

func kinds(sts []lane.State) []lane.Kind {
	var out []lane.Kind
	for _, st := range sts {
		out = append(out, st.Kind)
	}
	return out
}

// TestHold: a denial stays on show for Hold although the controller is idle
// at once; the next person's code replaces it at once.
func TestHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := lane.New(lane.Options{Hold: 3 * time.Second, Log: quietLog()})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		c, _ := s.Subscribe()
		got := collect(c)

		s.Lane(gate.LaneSignal{Lane: gate.LaneChecking})
		s.Lane(gate.LaneSignal{Lane: gate.LaneIdle, Entry: entry("e1", "", 0, gate.ReasonCredential)})
		synctest.Wait()
		if k := s.Current().Kind; k != lane.Denied {
			t.Fatalf("after the decision: %s", k)
		}
		s.Lane(gate.LaneSignal{Lane: gate.LaneIdle}) // duplicate idle: still held
		time.Sleep(2999 * time.Millisecond)
		synctest.Wait()
		if k := s.Current().Kind; k != lane.Denied {
			t.Fatalf("before the hold ends: %s", k)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if k := s.Current().Kind; k != lane.Idle {
			t.Fatalf("after the hold: %s", k)
		}
		// A new code interrupts a held decision.
		s.Lane(gate.LaneSignal{Lane: gate.LaneIdle, Entry: entry("e2", "", 38, gate.ReasonFever)})
		synctest.Wait()
		s.Lane(gate.LaneSignal{Lane: gate.LaneChecking})
		synctest.Wait()
		if k := s.Current().Kind; k != lane.CodeSeen {
			t.Fatalf("a new code during the hold: %s", k)
		}
		cancel()
		<-done
		synctest.Wait()
		want := []lane.Kind{lane.Idle, lane.CodeSeen, lane.Denied, lane.Idle, lane.Fever, lane.CodeSeen}
		if !slices.Equal(kinds(*got), want) {
			t.Errorf("states %v, want %v", kinds(*got), want)
		}
		for i, st := range *got {
			if st.Seq != uint64(i+1) {
				t.Errorf("state %d has seq %d", i, st.Seq)
			}
		}
	})
}

// TestSlowSubscriber: a subscriber that does not read loses the oldest
// states, never the newest, and never blocks the others.
func TestSlowSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := lane.New(lane.Options{Log: quietLog()})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		slow, stopSlow := s.Subscribe()
		fast, _ := s.Subscribe()
		got := collect(fast)
		for i := range 100 {
			lanes := []string{gate.LaneChecking, gate.LaneIdle}
			s.Lane(gate.LaneSignal{Lane: lanes[i%2]})
			synctest.Wait()
		}
		if n := len(*got); n != 101 {
			t.Errorf("fast subscriber got %d states, want 101", n)
		}
		var last lane.State
		n := 0
		for len(slow) > 0 {
			last = <-slow
			n++
		}
		if n != 32 || last.Seq != 101 {
			t.Errorf("slow subscriber: %d states, last seq %d; want 32, 101", n, last.Seq)
		}
		stopSlow()
		stopSlow() // idempotent
		cancel()
		<-done
	})
}

// TestNoHold: without a hold the lane is idle again right after a denial.
func TestNoHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := lane.New(lane.Options{Log: quietLog()})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		c, _ := s.Subscribe()
		got := collect(c)
		s.Lane(gate.LaneSignal{Lane: gate.LaneChecking})
		s.Lane(gate.LaneSignal{Lane: gate.LaneIdle, Mode: gate.ModeLocked, Entry: entry("e1", "", 0, gate.ReasonLocked)})
		synctest.Wait()
		cancel()
		<-done
		synctest.Wait()
		if want := []lane.Kind{lane.Idle, lane.CodeSeen, lane.Denied, lane.Locked}; !slices.Equal(kinds(*got), want) {
			t.Errorf("states %v, want %v", kinds(*got), want)
		}
	})
}
