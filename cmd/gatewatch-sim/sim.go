package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
)

// sim is one simulated gate.
type sim struct {
	name   string
	o      *options
	client paho.Client
	ver    *command.Verifier

	mu   sync.Mutex // guards the fields below
	seq  uint64
	mode gate.Mode
	fire bool

	published *atomic.Int64
	commands  *atomic.Int64
}

// paused stops the background entries (script line "pause").
var paused atomic.Bool

func (s *sim) topic(rel string) string { return s.o.prefix + "/" + s.o.site + "/" + s.name + "/" + rel }

func (s *sim) connect() error {
	opts := paho.NewClientOptions().AddBroker(s.o.broker).SetClientID("gatewatch-sim-"+s.o.site+"-"+s.name).
		SetCleanSession(true).SetAutoReconnect(true).SetWill(s.topic("availability"), "offline", 1, true)
	if s.o.passwordDir != "" {
		pw, err := os.ReadFile(filepath.Join(s.o.passwordDir, s.name+".password"))
		if err != nil {
			return fmt.Errorf("%s: -password-dir: %w", s.name, err)
		}
		opts.SetUsername(s.o.site + "/" + s.name).SetPassword(strings.TrimSpace(string(pw)))
	}
	opts.SetOnConnectHandler(func(c paho.Client) {
		if s.ver != nil {
			c.Subscribe(s.topic("cmd/+"), 1, s.onCommand)
		}
	})
	s.client = paho.NewClient(opts)
	if t := s.client.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("%s: connect %s: %v", s.name, s.o.broker, t.Error())
	}
	info := gate.Info{V: 1, Site: s.o.site, Gate: s.name, Version: "sim-1.0", ConfigHash: strings.Repeat("ab", 32),
		CalibrationID: "cal-2026-11-" + s.name, Started: time.Now().UTC()}
	for _, m := range []struct {
		rel string
		v   any
	}{{"info", info}, {"state", s.state()}} {
		b, _ := json.Marshal(m.v)
		if err := s.pub(m.rel, true, b); err != nil {
			return err
		}
	}
	return s.pub("availability", true, []byte("online"))
}

func (s *sim) state() gate.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	lane := "idle"
	if s.fire {
		lane = "fire_alarm"
	}
	return gate.State{V: 1, Site: s.o.site, Gate: s.name, Time: time.Now().UTC(), Mode: s.mode, Lane: lane, FireAlarm: s.fire,
		Devices: map[string]string{"thermal": "ok", "camera": "ok", "relay": "ok"}}
}

func (s *sim) pub(rel string, retained bool, payload []byte) error {
	t := s.client.Publish(s.topic(rel), 1, retained, payload)
	if !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("%s: publish %s: %v", s.name, rel, t.Error())
	}
	s.published.Add(1)
	return nil
}

func (s *sim) nextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

func (s *sim) event(kind, decision string, reasons []gate.Reason, holder string) gate.Event {
	if reasons == nil {
		reasons = []gate.Reason{}
	}
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	return gate.Event{V: 1, ID: uuid.Must(uuid.NewV7()).String(), Seq: s.nextSeq(), Site: s.o.site, Gate: s.name,
		Time: time.Now().UTC(), Kind: kind, Decision: decision, Reasons: reasons, Holder: holder, FaceSeen: holder != "",
		Mode: mode}
}

func (s *sim) publishEvent(e gate.Event) error {
	b, _ := json.Marshal(e)
	return s.pub(gate.TopicAccess, false, b)
}

func (s *sim) entry(holder string, admitted bool, r *gate.Reading) error {
	e := s.event(gate.KindEntry, "admitted", nil, holder)
	if !admitted {
		e.Decision, e.Reasons = "denied", []gate.Reason{"fever"}
	}
	e.Reading = r
	if e.Reading == nil {
		e.Reading = &gate.Reading{SkinC: 34.2, CoreC: 36.4 + rand.Float64()*0.5, ThresholdC: 37.5}
	}
	e.Credential = &gate.Credential{Status: gate.StatusGreen, Verified: true}
	return s.publishEvent(e)
}

func (s *sim) fever(holder string, temp float64) error {
	img := thermalPNG(temp)
	hash := gate.SnapshotHash(img)
	r := &gate.Reading{SkinC: temp - 1.8, CoreC: temp, ThresholdC: 37.5, CalibrationID: "cal-2026-11-" + s.name, Snapshot: hash}
	e := s.event(gate.KindEntry, "denied", []gate.Reason{"fever"}, holder)
	e.Reading = r
	e.Credential = &gate.Credential{Status: gate.StatusGreen, Verified: true}
	if err := s.publishEvent(e); err != nil {
		return err
	}
	a := gate.Alert{V: 1, ID: uuid.Must(uuid.NewV7()).String(), AlertID: uuid.Must(uuid.NewV7()).String(), Seq: s.nextSeq(),
		Site: s.o.site, Gate: s.name, Time: time.Now().UTC(), Type: gate.AlertFever, State: gate.AlertNew, Severity: "critical",
		Message: fmt.Sprintf("fever %.1f °C at %s", temp, s.name), Event: e.ID, Holder: holder, Reading: r, Count: 1}
	b, _ := json.Marshal(a)
	if err := s.pub(gate.TopicAlert, false, b); err != nil {
		return err
	}
	sb, _ := json.Marshal(gate.Snapshot{V: 1, Site: s.o.site, Gate: s.name, Hash: hash, Kind: gate.SnapshotThermal, ContentType: "image/png", Data: img})
	return s.pub(gate.SnapshotTopic(hash), false, sb)
}

func (s *sim) fireAlarm(on bool) error {
	s.mu.Lock()
	s.fire = on
	s.mu.Unlock()
	b, _ := json.Marshal(s.state())
	if err := s.pub("state", true, b); err != nil {
		return err
	}
	st := gate.AlertNew
	if !on {
		st = gate.AlertEnd
	}
	a := gate.Alert{V: 1, ID: uuid.Must(uuid.NewV7()).String(), AlertID: "fire-" + s.name, Seq: s.nextSeq(), Site: s.o.site, Gate: s.name,
		Time: time.Now().UTC(), Type: gate.AlertFireAlarm, State: st, Severity: "critical", Message: "fire alarm input active: lane held open"}
	ab, _ := json.Marshal(a)
	return s.pub(gate.TopicAlert, false, ab)
}

// history publishes admitted entries at 08:00 local on each of the last
// days days: each department's share of the roster rises over the weeks
// (the return to work after a holiday), differently per department.
func (s *sim) history(people []store.Person, days int) error {
	byDept := map[string][]store.Person{}
	var depts []string
	for _, p := range people {
		if byDept[p.Department] == nil {
			depts = append(depts, p.Department)
		}
		byDept[p.Department] = append(byDept[p.Department], p)
	}
	now := time.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, time.Local)
	for d := days; d >= 1; d-- {
		day := today.AddDate(0, 0, -d)
		progress := float64(days-d) / float64(max(1, days-1))
		for k, dep := range depts {
			members := byDept[dep]
			// A department's share rises from about a fifth to nearly all,
			// the later departments a little behind.
			share := min(0.95, 0.2+0.75*progress-0.08*float64(k)+0.05*math.Sin(float64(d)))
			n := int(math.Round(max(0, share) * float64(len(members))))
			for i := range n {
				p := members[(i+d)%len(members)]
				e := s.event(gate.KindEntry, "admitted", nil, p.ID)
				e.Time = day.Add(time.Duration(k*60+i) * 11 * time.Second).UTC()
				e.Reading = &gate.Reading{SkinC: 34.4, CoreC: 36.5, ThresholdC: 37.5}
				e.Credential = &gate.Credential{Status: gate.StatusGreen, Verified: true}
				if err := s.publishEvent(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// background publishes admitted entries at the configured rate until ctx
// ends.
func (s *sim) background(ctx context.Context, holders []string) {
	t := time.NewTicker(time.Duration(float64(time.Second) / s.o.rate))
	defer t.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if paused.Load() {
				continue
			}
			n++
			var err error
			if s.o.alertEvery > 0 && n%s.o.alertEvery == 0 {
				err = s.fever(holders[rand.IntN(len(holders))], 37.8+rand.Float64())
			} else {
				err = s.entry(holders[rand.IntN(len(holders))], true, nil)
			}
			if err != nil && ctx.Err() == nil {
				fmt.Fprintln(os.Stderr, "gatewatch-sim:", err)
			}
		}
	}
}
