package gate_test

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate"
)

func (h *harness) remoteOpen(r gate.Remote) gate.RemoteResult {
	h.t.Helper()
	res, err := h.ctrl.RemoteOpen(context.Background(), r)
	if err != nil {
		h.t.Fatal(err)
	}
	synctest.Wait()
	return res
}

func (h *harness) lastEvent() gate.Event {
	h.t.Helper()
	msgs := h.rec.Messages()
	var ev gate.Event
	if err := json.Unmarshal(msgs[len(msgs)-1].Payload, &ev); err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func TestRemoteOpenIsAnEntryEventNamingTheOperator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r1"})
		if res.Refused != "" || res.Event == "" {
			t.Fatalf("result %+v", res)
		}
		h.wantCalls("release")
		ev := h.lastEvent()
		if ev.Kind != gate.KindRemoteOpen || ev.Operator != "desk" || ev.Request != "r1" || ev.ID != res.Event {
			t.Errorf("event %+v", ev)
		}
		h.input(gate.InputPassage, true)
		h.want("remote_open:opened:remote_open", "passage:passed:")
		h.shutdown()
	})
}

func TestRemoteOpenRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		// A fever denial: the next remote open needs an override.
		h.therm.Set(gate.Reading{SkinC: 38.2, CoreC: 38.2}, nil)
		h.thermal()
		h.observe("bob", true)
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r1"}); res.Refused != gate.RefusedFever {
			t.Fatalf("after a fever denial: %+v", res)
		}
		h.wantCalls()
		why := "clinic rechecked with a thermometer: 36.9 °C"
		res := h.remoteOpen(gate.Remote{Operator: "admin", Request: "r2", Override: true, Reason: why})
		if res.Refused != "" {
			t.Fatalf("override refused: %+v", res)
		}
		if ev := h.lastEvent(); len(ev.Reasons) != 2 || ev.Reasons[1] != gate.ReasonOverride || ev.OperatorReason != why {
			t.Errorf("override or its reason not recorded: %+v", ev)
		}
		// The lane is open now: busy.
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r3"}); res.Refused != gate.RefusedBusy {
			t.Fatalf("while open: %+v", res)
		}
		h.input(gate.InputPassage, true)
		// After FeverHold the hold ends.
		time.Sleep(gate.FeverHold)
		synctest.Wait()
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r4"}); res.Refused != "" {
			t.Fatalf("after the fever hold: %+v", res)
		}
		h.input(gate.InputPassage, true)
		// Locked mode refuses.
		h.ctrl.SetMode(context.Background(), gate.ModeLocked)
		synctest.Wait()
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r5"}); res.Refused != gate.RefusedLocked {
			t.Fatalf("locked: %+v", res)
		}
		h.shutdown()
	})
}

func TestRemoteOpenNeverUnlogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.rec.Fail(true)
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "r1"}); res.Refused != gate.RefusedUnlogged {
			t.Fatalf("result %+v", res)
		}
		h.wantCalls()
		h.rec.Fail(false)
		h.shutdown()
	})
}

func TestRemoteSetModeAndFireAlarmOverride(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		ctx := context.Background()
		res, err := h.ctrl.RemoteSetMode(ctx, gate.ModeFree, gate.Remote{Operator: "desk", Request: "m1"})
		if err != nil || res.Event == "" {
			t.Fatalf("%+v %v", res, err)
		}
		if ev := h.lastEvent(); ev.Kind != gate.KindModeChange || ev.Decision != "free" || ev.Operator != "desk" {
			t.Errorf("event %+v", ev)
		}
		if res := h.remoteOpen(gate.Remote{Operator: "desk", Request: "o1"}); res.Refused != gate.RefusedAlreadyOpen {
			t.Errorf("open in free mode: %+v", res)
		}
		h.wantCalls("free")
		// A fire alarm: a plain mode change does not secure the lane.
		h.input(gate.InputFireAlarm, true)
		res, _ = h.ctrl.RemoteSetMode(ctx, gate.ModeLocked, gate.Remote{Operator: "desk", Request: "m2"})
		if res.Refused != "" || res.Detail == "" {
			t.Errorf("set_mode during fire alarm: %+v", res)
		}
		h.wantCalls("free", "free")
		// Only an override does, and the alarm stays latched.
		why := "false alarm confirmed by the fire brigade"
		res, _ = h.ctrl.RemoteSetMode(ctx, gate.ModeLocked, gate.Remote{Operator: "admin", Request: "m3", Override: true, Reason: why})
		if res.Refused != "" || res.Event == "" {
			t.Errorf("override: %+v", res)
		}
		h.wantCalls("free", "free", "secure")
		ev := h.lastEvent()
		if len(ev.Reasons) != 2 || ev.Reasons[1] != gate.ReasonOverride || ev.Request != "m3" || ev.OperatorReason != why {
			t.Errorf("override event %+v", ev)
		}
		var st gate.State
		b, err := h.ctrl.StatePayload(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &st); err != nil || !st.FireAlarm || st.Mode != gate.ModeLocked {
			t.Errorf("state %s: %v", b, err)
		}
		h.shutdown()
	})
}

func TestReconfigure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		err := h.ctrl.Reconfigure(context.Background(), gate.LiveSettings{
			Policy: gate.Policy{FeverC: 38.5, ColdC: 34.5, MinSkinC: 30, RequireFace: true, RequireTemperature: true}})
		if err != nil {
			t.Fatal(err)
		}
		h.therm.Set(gate.Reading{SkinC: 38.2, CoreC: 38.2}, nil) // a fever at 37.3, not at 38.5
		h.thermal()
		h.observe("bob", true)
		h.want("entry:admitted:insecure_credential")
		h.shutdown()
	})
}

func TestRemoteCallEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil)
		h.shutdown() // nobody runs the calls now
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := h.ctrl.RemoteOpen(ctx, gate.Remote{Operator: "d", Request: "r"}); err == nil {
			t.Fatal("no error after the controller stopped")
		}
	})
}
