package schema

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

func load(t *testing.T) *Set {
	t.Helper()
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDocsCoverSchemas fails when docs/mqtt.md does not name a schema file or
// one of its properties (as `name`).
func TestDocsCoverSchemas(t *testing.T) {
	doc, err := os.ReadFile("../../docs/mqtt.md")
	if err != nil {
		t.Fatal(err)
	}
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 7 {
		t.Fatalf("only %v", names)
	}
	for _, n := range names {
		if !strings.Contains(string(doc), "`configs/schema/"+n+"`") {
			t.Errorf("docs/mqtt.md does not name `configs/schema/%s`", n)
		}
		src, _ := Source(n)
		var v any
		if err := json.Unmarshal(src, &v); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		for _, p := range properties(v) {
			if !strings.Contains(string(doc), "`"+p+"`") {
				t.Errorf("docs/mqtt.md does not document %s property `%s`", n, p)
			}
		}
	}
}

// properties returns every key of every "properties" object in a schema.
func properties(v any) []string {
	set := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ps, ok := x["properties"].(map[string]any); ok {
				for k := range ps {
					set[k] = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestForTopic(t *testing.T) {
	tests := []struct {
		rel  string
		want string
		ok   bool
	}{
		{"availability", "", true},
		{"info", Info, true},
		{"state", State, true},
		{"event/access", EventAccess, true},
		{"event/alert", EventAlert, true},
		{"cmd/open", Command, true},
		{"cmd/open/result", CommandResult, true},
		{"cmd/a/b/result", "", false},
		{"cmd/open/x", "", false},
		{"event/other", "", false},
		{"snapshot/" + strings.Repeat("ab", 32), Snapshot, true},
		{"snapshot/", "", false},
		{"snapshot/a/b", "", false},
	}
	for _, tt := range tests {
		got, ok := ForTopic(tt.rel)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ForTopic(%q) = %q, %v; want %q, %v", tt.rel, got, ok, tt.want, tt.ok)
		}
	}
}

// TestValidate checks that the schemas accept good payloads and reject
// each kind of bad one.
func TestValidate(t *testing.T) {
	s := load(t)
	const tm = `"2026-11-27T12:00:00Z"`
	state := `{"v":1,"site":"s","gate":"g","time":` + tm + `,"mode":"normal","lane":"idle","fire_alarm":false,"devices":{"relay":"ok"},"outbox_depth":0}`
	snap := `{"v":1,"site":"s","gate":"g","hash":"` + strings.Repeat("a", 64) + `","kind":"thermal","content_type":"image/png","data":"iVBORw0KGgo="}`
	cmd := `{"v":1,"sig":"AAAA","body":{"id":"r","name":"open","site":"s","gate":"g","operator":"o","nonce":1,"issued":` + tm + `,"expires":` + tm + `,"args":{}}}`
	remote := `{"v":1,"id":"e1","seq":3,"site":"s","gate":"g","time":` + tm + `,"kind":"remote_open","decision":"opened",` +
		`"reasons":["remote_open","override"],"face_seen":false,"mode":"normal","operator":"console","request":"ada.1",` +
		`"operator_reason":"clinic checked","replayed":false}`
	tests := []struct {
		name, rel, payload string
		ok                 bool
	}{
		{"availability", "availability", "online", true},
		{"availability junk", "availability", "maybe", false},
		{"state", "state", state, true},
		{"state bad lane", "state", strings.Replace(state, `"idle"`, `"ajar"`, 1), false},
		{"state extra field", "state", strings.Replace(state, `"v":1`, `"v":1,"x":1`, 1), false},
		{"state bad time", "state", strings.Replace(state, tm, `"yesterday"`, 1), false},
		{"info", "info", `{"v":1,"site":"s","gate":"g","version":"dev","config_hash":"` + strings.Repeat("a", 64) + `","calibration_id":"c","started":` + tm + `}`, true},
		{"info short hash", "info", `{"v":1,"site":"s","gate":"g","version":"dev","config_hash":"abc","calibration_id":"c","started":` + tm + `}`, false},
		{"result ok", "cmd/get_state/result", `{"v":1,"id":"r","name":"get_state","site":"s","gate":"g","time":` + tm + `,"status":"ok","state":` + state + `}`, true},
		{"result rejected", "cmd/open/result", `{"v":1,"id":"","name":"open","site":"s","gate":"g","time":` + tm + `,"status":"rejected","reason":"malformed","detail":"x"}`, true},
		{"result rejected without reason", "cmd/open/result", `{"v":1,"id":"","name":"open","site":"s","gate":"g","time":` + tm + `,"status":"rejected"}`, false},
		{"result ok with reason", "cmd/open/result", `{"v":1,"id":"r","name":"open","site":"s","gate":"g","time":` + tm + `,"status":"ok","reason":"replayed"}`, false},
		{"command", "cmd/open", `{"v":1,"sig":"AAAA","body":{"id":"r","name":"open","site":"s","gate":"g","operator":"o","nonce":1,"issued":` + tm + `,"expires":` + tm + `,"args":{}}}`, true},
		{"command bad sig", "cmd/open", `{"v":1,"sig":"!!","body":{"id":"r","name":"open","site":"s","gate":"g","operator":"o","nonce":1,"issued":` + tm + `,"expires":` + tm + `,"args":{}}}`, false},
		{"command no nonce", "cmd/open", `{"v":1,"sig":"AAAA","body":{"id":"r","name":"open","site":"s","gate":"g","operator":"o","issued":` + tm + `,"expires":` + tm + `,"args":{}}}`, false},
		{"command with a reason", "cmd/open", strings.Replace(cmd, `"args":{}`, `"args":{"override":true,"reason":"复检 36.9 °C, clinic agreed"}`, 1), true},
		{"command reason too long", "cmd/open", strings.Replace(cmd, `"args":{}`, `"args":{"reason":"`+strings.Repeat("a", 201)+`"}`, 1), false},
		{"command reason with a newline", "cmd/open", strings.Replace(cmd, `"args":{}`, `"args":{"reason":"a\nb"}`, 1), false},
		{"remote open with its reason", "event/access", remote, true},
		{"remote open reason with a control character", "event/access", strings.Replace(remote, `checked"`, `checked\u001b[2J"`, 1), false},
		{"snapshot", "snapshot/" + strings.Repeat("a", 64), snap, true},
		{"snapshot not base64", "snapshot/" + strings.Repeat("a", 64), strings.Replace(snap, `"iVBORw0KGgo="`, `"!!"`, 1), false},
		{"snapshot other kind", "snapshot/" + strings.Repeat("a", 64), strings.Replace(snap, `"thermal"`, `"face"`, 1), false},
		{"outside the contract", "debug", `{}`, false},
		{"not json", "state", `{`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateTopic(tt.rel, []byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestHAConfigHasNoCommand(t *testing.T) {
	s := load(t)
	good := `{"name":"Fever","unique_id":"u","object_id":"o","device":{"identifiers":["x"],"name":"n"},"state_topic":"t"}`
	if err := s.Validate(HAConfig, []byte(good)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, `"state_topic":"t"`, `"state_topic":"t","command_topic":"gateguard/v1/s/g/cmd/open"`, 1)
	if err := s.Validate(HAConfig, []byte(bad)); err == nil {
		t.Fatal("a discovery config with a command topic validated")
	}
}

// FuzzValidate: validating arbitrary payloads never panics.
func FuzzValidate(f *testing.F) {
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("state", []byte(`{"v":1}`))
	f.Add("cmd/open", []byte(`{"v":1,"body":{},"sig":""}`))
	f.Add("availability", []byte("online"))
	f.Fuzz(func(t *testing.T, rel string, payload []byte) {
		_ = s.ValidateTopic(rel, payload)
	})
}
