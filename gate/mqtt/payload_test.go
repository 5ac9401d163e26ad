package mqtt

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
)

func TestMarkReplayed(t *testing.T) {
	ev, _ := json.Marshal(gate.Event{V: 1, ID: "e1", Seq: 7, Time: time.Unix(0, 0).UTC(), Kind: gate.KindEntry,
		Reasons: []gate.Reason{}, Holder: `tricky "replayed":false}`})
	al, _ := json.Marshal(gate.Alert{V: 1, ID: "a1", AlertID: "x", Seq: 8, Type: gate.AlertFever, State: gate.AlertNew})
	tests := []struct {
		name, in string
		want     map[string]string // members that must have these values afterwards
	}{
		{"event", string(ev), map[string]string{"replayed": "true", "holder": `"tricky \"replayed\":false}"`, "seq": "7"}},
		{"alert", string(al), map[string]string{"replayed": "true", "alert_id": `"x"`}},
		{"missing", `{"a":1}`, map[string]string{"replayed": "true", "a": "1"}},
		{"empty object", `{}`, map[string]string{"replayed": "true"}},
		{"first and spaced", `{ "replayed" : false , "b" : [1, {"replayed":false}] }`,
			map[string]string{"replayed": "true", "b": `[1, {"replayed":false}]`}},
		{"escaped key", `{"repl\u0061yed":false}`, map[string]string{"replayed": "true"}},
		{"already true", `{"replayed":true}`, map[string]string{"replayed": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := markReplayed([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("output %s is not JSON: %v", out, err)
			}
			for k, v := range tc.want {
				if string(got[k]) != v {
					t.Errorf("%s = %s, want %s (output %s)", k, got[k], v, out)
				}
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":1`, `{"a":1}{}`, `{"a":}`, `{"a":1} x`, `nul`} {
		if out, err := markReplayed([]byte(bad)); err == nil {
			t.Errorf("markReplayed(%q) = %q, want an error", bad, out)
		}
	}
}

func TestSetDepth(t *testing.T) {
	st, _ := json.Marshal(gate.State{V: 1, Lane: "idle", Devices: map[string]string{"outbox": "ok"}, OutboxDepth: 3})
	out, err := setDepth(st, 12345)
	if err != nil {
		t.Fatal(err)
	}
	var s gate.State
	if err := json.Unmarshal(out, &s); err != nil || s.OutboxDepth != 12345 || s.Lane != "idle" || s.Devices["outbox"] != "ok" {
		t.Fatalf("%s → %+v, %v", out, s, err)
	}
}

// FuzzSetField checks that rewriting a member keeps every other member and
// always yields valid JSON, or an error for input that is not one object.
func FuzzSetField(f *testing.F) {
	ev, _ := json.Marshal(gate.Event{V: 1, ID: "e", Reasons: []gate.Reason{gate.ReasonFever}})
	for _, s := range []string{string(ev), `{}`, `{"replayed":false}`, `{"a":{"replayed":1},"replayed":null}`,
		`[1]`, `{"a":"\u00e9\ud83d\ude00"}`, ` {"x" : 1 } `, `{"a":1}{"b":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := markReplayed(in)
		var before map[string]json.RawMessage
		isObj := json.Unmarshal(in, &before) == nil && before != nil
		if err != nil {
			if isObj && json.Valid(in) {
				t.Fatalf("markReplayed(%q) refused a JSON object: %v", in, err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("markReplayed(%q) = %q, not JSON", in, out)
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil || after == nil {
			t.Fatalf("markReplayed(%q) = %q: not an object (%v)", in, out, err)
		}
		if string(after["replayed"]) != "true" {
			t.Fatalf("markReplayed(%q) = %q: replayed is %s", in, out, after["replayed"])
		}
		delete(before, "replayed")
		delete(after, "replayed")
		if !maps.EqualFunc(before, after, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
			t.Fatalf("markReplayed(%q) = %q changed other members", in, out)
		}
	})
}
