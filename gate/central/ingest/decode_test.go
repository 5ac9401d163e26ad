package ingest

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/storetest"
)

func decoder(t *testing.T) *Decoder {
	t.Helper()
	set, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &Decoder{Prefix: "gateguard/v1", Schemas: set}
}

func TestDecode(t *testing.T) {
	ev := storetest.Event("p1", "lane-1", 1, storetest.Base, "alice", "admitted")
	al := storetest.Alert("p1", "lane-1", 2, storetest.Base, "a1", gate.AlertFever, gate.AlertNew, 1)
	png := []byte("\x89PNG\r\n\x1a\n-thermal")
	hash := gate.SnapshotHash(png)
	snap := `{"v":1,"site":"p1","gate":"lane-1","hash":"` + hash + `","kind":"thermal","content_type":"image/png","data":"` +
		base64.StdEncoding.EncodeToString(png) + `"}`
	info := `{"v":1,"site":"p1","gate":"lane-1","version":"1.0","config_hash":"` + strings.Repeat("a", 64) +
		`","calibration_id":"c1","started":"2026-11-20T07:00:00Z"}`
	state := `{"v":1,"site":"p1","gate":"lane-1","time":"2026-11-20T08:00:00Z","mode":"normal","lane":"idle","fire_alarm":false,"devices":{"camera":"ok"},"outbox_depth":0}`
	const pre = "gateguard/v1/p1/lane-1/"
	cases := []struct {
		name, topic, payload string
		check                func(b *store.Batch) bool
		reason               string // quarantined with a reason containing this
	}{
		{"event", pre + "event/access", string(ev.Raw), func(b *store.Batch) bool { return len(b.Events) == 1 && b.Events[0].ID == ev.ID }, ""},
		{"alert", pre + "event/alert", string(al.Raw), func(b *store.Batch) bool { return len(b.Alerts) == 1 && b.Alerts[0].AlertID == "a1" }, ""},
		{"availability", pre + "availability", "offline", func(b *store.Batch) bool { return len(b.Gates) == 1 && b.Gates[0].Availability == "offline" }, ""},
		{"info", pre + "info", info, func(b *store.Batch) bool { return len(b.Gates) == 1 && b.Gates[0].Info.CalibrationID == "c1" }, ""},
		{"state", pre + "state", state, func(b *store.Batch) bool { return len(b.Gates) == 1 && b.Gates[0].State.Lane == "idle" }, ""},
		{"snapshot", pre + "snapshot/" + hash, snap, func(b *store.Batch) bool {
			return len(b.Snapshots) == 1 && string(b.Snapshots[0].Data) == string(png) && b.Snapshots[0].Hash == hash
		}, ""},
		{"not JSON", pre + "event/access", "{", nil, "not JSON"},
		{"schema violation", pre + "event/access", `{"v":1,"id":"x"}`, nil, "event-access.json"},
		{"availability word", pre + "availability", "maybe", nil, "not online or offline"},
		{"foreign topic", "other/thing", "{}", nil, "not under gateguard/v1"},
		{"unknown event topic", pre + "event/other", "{}", nil, "not in the contract"},
		{"another gate's payload", "gateguard/v1/p1/lane-9/event/access", string(ev.Raw), nil, "payload names p1/lane-1 but was published under p1/lane-9"},
		{"snapshot under another hash", pre + "snapshot/" + strings.Repeat("0", 64), snap, nil, "published on"},
		{"command", pre + "cmd/open", `{}`, nil, "command.json"},
		{"NUL in a holder", pre + "event/access", strings.Replace(string(ev.Raw), `"holder":"alice"`, `"holder":"al\u0000ice"`, 1), nil, "NUL character"},
		{"NUL in an alert message", pre + "event/alert", strings.Replace(string(al.Raw), `"message":"fever new"`, `"message":"\u0000"`, 1), nil, "NUL character"},
		{"invalid UTF-8", pre + "event/access", strings.Replace(string(ev.Raw), `"holder":"alice"`, "\"holder\":\"al\xffice\"", 1), nil, "not valid UTF-8"},
	}
	d := decoder(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b store.Batch
			d.Add(&b, c.topic, []byte(c.payload), time.Now())
			if c.reason == "" {
				if len(b.Quarantined) != 0 || !c.check(&b) {
					t.Fatalf("batch %+v", b)
				}
				return
			}
			if b.Len() != 1 || len(b.Quarantined) != 1 || !strings.Contains(b.Quarantined[0].Reason, c.reason) ||
				string(b.Quarantined[0].Payload) != c.payload || b.Quarantined[0].Topic != c.topic {
				t.Fatalf("want one quarantined with reason containing %q, got %+v", c.reason, b)
			}
		})
	}
}
