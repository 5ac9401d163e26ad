package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
)

// TestUnauthorisedPassage: a passage nobody was admitted for is an access
// event (passage, unauthorised) and a tailgating alert; a lane held open
// lets anyone through without one.
func TestUnauthorisedPassage(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness)
		want []string
	}{
		{"idle lane", func(h *harness) {
			h.input(gate.InputPassage, true)
		}, []string{"passage:unauthorised:", "alert:tailgating:new"}},
		{"second passage in one opening", func(h *harness) {
			h.input(gate.InputExitButton, true)
			h.input(gate.InputPassage, true)
			h.input(gate.InputPassage, false)
			h.input(gate.InputPassage, true)
		}, []string{"exit_button:opened:exit_button", "passage:passed:", "passage:unauthorised:", "alert:tailgating:new"}},
		{"while someone is being checked", func(h *harness) {
			h.observe("alice", false)
			h.input(gate.InputPassage, true)
		}, []string{"passage:unauthorised:", "alert:tailgating:new"}},
		{"passage released at the end of an input is no second passage", func(h *harness) {
			h.input(gate.InputPassage, false)
		}, nil},
		{"fire alarm holds the lane open", func(h *harness) {
			h.input(gate.InputFireAlarm, true)
			h.input(gate.InputPassage, true)
		}, []string{"fire_alarm:opened:fire_alarm", "alert:fire_alarm:new"}},
		{"free mode holds the lane open", func(h *harness) {
			h.ctrl.SetMode(context.Background(), gate.ModeFree)
			h.input(gate.InputPassage, true)
		}, []string{"mode_change:free:"}},
	}
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, nil)
				tt.run(h)
				h.want(tt.want...)
				for _, m := range h.rec.Messages() {
					if err := schemas.ValidateTopic(m.Topic, m.Payload); err != nil {
						t.Errorf("%s payload against its schema: %v\n%s", m.Topic, err, m.Payload)
					}
				}
				h.shutdown()
			})
		})
	}
}

// TestTailgatingAlertsAreRateLimitedPerLane: repeated unauthorised passages
// are each an access event, but raise one alert per window (counted under
// one alert id), which ends once a window passes without one.
func TestTailgatingAlertsAreRateLimitedPerLane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, func(o *gate.Options) { o.AlertWindow = time.Minute })
		for _, then := range []time.Duration{10 * time.Second, 55 * time.Second, 0} {
			h.input(gate.InputPassage, true) // t=0: new; t=10: counted; t=65: one update
			h.input(gate.InputPassage, false)
			time.Sleep(then) // fake clock
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		var alerts []string
		ids := map[string]bool{}
		for _, m := range h.rec.Messages() {
			if m.Topic != gate.TopicAlert {
				continue
			}
			var a gate.Alert
			if err := json.Unmarshal(m.Payload, &a); err != nil {
				t.Fatal(err)
			}
			ids[a.AlertID] = true
			alerts = append(alerts, fmt.Sprintf("%s:%s:%d", a.Type, a.State, a.Count))
		}
		want := []string{"tailgating:new:1", "tailgating:update:3", "tailgating:end:3"}
		if !slices.Equal(alerts, want) {
			t.Errorf("alerts:\n got %v\nwant %v", alerts, want)
		}
		if len(ids) != 1 {
			t.Errorf("%d alert ids, want one for the lane's alert lifecycle", len(ids))
		}
		n := 0
		for _, e := range h.events() {
			if e == "passage:unauthorised:" {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d unauthorised passage events, want 3 (rate limiting thins alerts, not the entry log)", n)
		}
		h.shutdown()
	})
}
