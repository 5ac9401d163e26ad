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
