package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
)

// TestOutboxAlertAfterRefusedRecords checks the outbox alert path: while the
// outbox refuses records nobody is admitted and no alert can be stored; once
// it takes records again the alert is recorded (new, then end), with the
// time the refusals began.
func TestOutboxAlertAfterRefusedRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.rec.Fail(true)
		h.thermal()
		h.observe("alice", true)
		h.wantCalls()
		h.rec.Fail(false)
		h.thermal()
		h.observe("bob", true)
		h.wantCalls("release")
		got := h.events()
		if len(got) != 3 || !strings.HasPrefix(got[0], "entry:admitted") ||
			!slices.Equal(got[1:], []string{"alert:outbox:new", "alert:outbox:end"}) {
			t.Fatalf("events %q", got)
		}
		var a gate.Alert
		if err := json.Unmarshal(h.rec.Messages()[1].Payload, &a); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(a.Message, "refused records") || a.Device != "outbox" {
			t.Errorf("outbox alert %+v", a)
		}
		h.shutdown()
	})
}

// TestOutboxNearlyFullAlert: the outbox's health, reported as the "outbox"
// device, raises and ends an alert of type outbox.
func TestOutboxNearlyFullAlert(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.ctrl.DeviceHealth(context.Background(), "outbox", errors.New("outbox: nearly full: 91% in use"))
		synctest.Wait()
		h.ctrl.DeviceHealth(context.Background(), "outbox", nil)
		synctest.Wait()
		h.want("alert:outbox:new", "alert:outbox:end")
		h.shutdown()
	})
}

// pollable is a Recorder that also has a Health method, as the durable
// outbox does. The gate must not poll it: the outbox's health reaches the
// gate through DeviceHealth only, so a second route cannot contradict it.
type pollable struct {
	*gatetest.Recorder
	health error
}

func (p pollable) Health() error { return p.health }

// TestOutboxHealthHasOneRoute: after refused records, the outbox's state is
// what DeviceHealth last reported (the alert ends when nothing was
// reported, stays open while it reported trouble), never what a Health
// method on the Recorder says.
func TestOutboxHealthHasOneRoute(t *testing.T) {
	nearly := errors.New("outbox: nearly full: 91% in use")
	tests := []struct {
		name     string
		reported error // reported through DeviceHealth before the refusals
		want     []string
	}{
		{"nothing reported: the alert ends", nil,
			[]string{"entry:admitted:insecure_credential", "alert:outbox:new", "alert:outbox:end"}},
		{"nearly full reported: the alert stays open", nearly,
			[]string{"alert:outbox:new", "entry:admitted:insecure_credential", "alert:outbox:update"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, func(o *gate.Options) {
					o.Recorder = pollable{Recorder: o.Recorder.(*gatetest.Recorder), health: errors.New("poll: must not be asked")}
				})
				if tt.reported != nil {
					h.ctrl.DeviceHealth(context.Background(), "outbox", tt.reported)
					synctest.Wait()
				}
				h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
				h.rec.Fail(true)
				h.thermal()
				h.observe("alice", true)
				h.rec.Fail(false)
				h.thermal()
				h.observe("bob", true)
				h.want(tt.want...)
				for _, m := range h.rec.Messages() {
					if strings.Contains(string(m.Payload), "must not be asked") {
						t.Errorf("the gate polled the Recorder's health: %s", m.Payload)
					}
				}
				h.shutdown()
			})
		})
	}
}
