// Command gatewatch-sim runs simulated gates against an MQTT broker for the
// console's browser tests and soak (make test-ui, make soak-ui). Each gate
// publishes what a real gate publishes, in the gate's own payload types
// (retained availability, info and state; access events and alerts with
// per-gate sequence numbers; thermal snapshots) and answers signed commands
// on cmd/+ after verifying them with the gate's own command.Verifier; an
// accepted open publishes a remote_open event naming the operator and the
// request, as the gate does.
//
//	gatewatch-sim -broker tcp://127.0.0.1:1883 -site p1 -gates 2 -operator console -pub op.pub [-rate 10] [-roster people.csv]
//
// Lines on standard input drive scripted moments (each answered "ok ..."
// on standard output once the broker acknowledged it):
//
//	enter GATE HOLDER         an admitted entry
//	fever GATE HOLDER TEMP    a denied entry, its fever alert and the thermal snapshot
//	fire GATE on|off          the fire alarm state and alert
//	offline GATE              the gate's availability goes offline
//	mismatch GATE HOLDER      an entry denied: the face is not the credential's holder
//	gap GATE N                skips N sequence numbers, then sends an event
//	history GATE DAYS         admitted entries on each of the last DAYS days (not
//	                          today), a rising share of the roster each day
//	stats                     prints "stats published=N commands=N seqs=N" (seqs: events and alerts)
//	pause                     stops the background entries
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
)

type options struct {
	broker, prefix, site, operator, pub, roster, names string
	gates                                              int
	rate                                               float64
	alertEvery                                         int
	duration                                           time.Duration
	slowStream, cookie                                 string
	slowPause                                          time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.broker, "broker", "tcp://127.0.0.1:1883", "MQTT broker URL")
	flag.StringVar(&o.prefix, "prefix", "gateguard/v1", "topic prefix")
	flag.StringVar(&o.site, "site", "p1", "site name")
	flag.IntVar(&o.gates, "gates", 2, "number of gates (lane-1 … lane-N) unless -names")
	flag.StringVar(&o.names, "names", "", "comma-separated gate names")
	flag.Float64Var(&o.rate, "rate", 0, "background admitted entries per second per gate")
	flag.StringVar(&o.operator, "operator", "", "operator id the gates accept")
	flag.StringVar(&o.pub, "pub", "", "the operator's public key file (gateguard keygen's FILE.pub)")
	flag.StringVar(&o.roster, "roster", "", "roster CSV whose ids the background entries use")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until stdin closes or a signal)")
	flag.IntVar(&o.alertEvery, "alert-every", 0, "make every Nth background event a fever denial with its alert and snapshot")
	flag.StringVar(&o.slowStream, "slow-stream", "", "instead of gates: open this live stream URL as a browser that stops reading")
	flag.StringVar(&o.cookie, "cookie", "", "-slow-stream: the session cookie (name=value)")
	flag.DurationVar(&o.slowPause, "slow-pause", time.Minute, "-slow-stream: how long to stop reading")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.slowStream != "" {
		if err := slowStream(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "gatewatch-sim:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gatewatch-sim:", err)
		os.Exit(1)
	}
}

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

func run(ctx context.Context, o options) error {
	names := strings.Split(o.names, ",")
	if o.names == "" {
		names = nil
		for i := 1; i <= o.gates; i++ {
			names = append(names, "lane-"+strconv.Itoa(i))
		}
	}
	var ops []command.Operator
	if o.pub != "" {
		b, err := os.ReadFile(o.pub)
		if err != nil {
			return err
		}
		k, err := command.ParsePublicKey(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", o.pub, err)
		}
		ops = []command.Operator{{ID: o.operator, Key: k, Allow: append(append([]string{}, command.Names...), command.PermOverride)}}
	}
	var holders []string
	var people []store.Person
	if o.roster != "" {
		f, err := os.Open(o.roster)
		if err != nil {
			return err
		}
		var err2 error
		people, err2 = api.ParseRoster(f)
		f.Close()
		if err2 != nil {
			return err2
		}
		for _, p := range people {
			holders = append(holders, p.ID)
		}
	}
	var published, commands atomic.Int64
	sims := map[string]*sim{}
	for _, n := range names {
		s := &sim{name: n, o: &o, mode: gate.ModeNormal, published: &published, commands: &commands}
		if len(ops) > 0 {
			v, err := command.NewVerifier(command.Options{Site: o.site, Gate: n, Operators: ops, Nonces: &command.MemoryNonces{}})
			if err != nil {
				return err
			}
			s.ver = v
		}
		if err := s.connect(); err != nil {
			return err
		}
		defer s.client.Disconnect(250)
		sims[n] = s
	}
	fmt.Println("sim: ready", strings.Join(names, ","))
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.duration > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, o.duration)
		defer c2()
	}
	if o.rate > 0 && len(holders) > 0 {
		for _, s := range sims {
			wg.Go(func() { s.background(ctx, holders) })
		}
	}
	lines := make(chan string)
	go func() { // reads stdin; ends with it (not owned: stdin closes at exit)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			fmt.Printf("stats published=%d commands=%d\n", published.Load(), commands.Load())
			return nil
		case l, ok := <-lines:
			if !ok {
				if o.duration > 0 {
					lines = nil
					continue
				}
				cancel()
				continue
			}
			if err := script(sims, people, l, &published, &commands); err != nil {
				fmt.Println("error", err)
			} else {
				fmt.Println("ok", l)
			}
		}
	}
}

func script(sims map[string]*sim, people []store.Person, line string, published, commands *atomic.Int64) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return errors.New("empty line")
	}
	if f[0] == "stats" {
		var seqs uint64
		for _, s := range sims {
			s.mu.Lock()
			seqs += s.seq
			s.mu.Unlock()
		}
		fmt.Printf("stats published=%d commands=%d seqs=%d\n", published.Load(), commands.Load(), seqs)
		return nil
	}
	if f[0] == "pause" {
		paused.Store(true)
		return nil
	}
	if len(f) < 2 || sims[f[1]] == nil {
		return fmt.Errorf("%q: want a command and a known gate", line)
	}
	s := sims[f[1]]
	switch {
	case f[0] == "enter" && len(f) == 3:
		return s.entry(f[2], true, nil)
	case f[0] == "fever" && len(f) == 4:
		t, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return err
		}
		return s.fever(f[2], t)
	case f[0] == "fire" && len(f) == 3:
		return s.fireAlarm(f[2] == "on")
	case f[0] == "offline":
		return s.pub("availability", true, []byte("offline"))
	case f[0] == "mismatch" && len(f) == 3:
		e := s.event(gate.KindEntry, "denied", []gate.Reason{"face_mismatch"}, f[2])
		e.Credential = &gate.Credential{Status: gate.StatusGreen, Verified: true}
		return s.publishEvent(e)
	case f[0] == "gap" && len(f) == 3:
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.seq += n // these sequence numbers are never sent
		s.mu.Unlock()
		return s.entry("", true, nil)
	case f[0] == "history" && len(f) == 3:
		days, err := strconv.Atoi(f[2])
		if err != nil {
			return err
		}
		return s.history(people, days)
	}
	return fmt.Errorf("%q: unknown", line)
}

func (s *sim) topic(rel string) string { return s.o.prefix + "/" + s.o.site + "/" + s.name + "/" + rel }

func (s *sim) connect() error {
	opts := paho.NewClientOptions().AddBroker(s.o.broker).SetClientID("gatewatch-sim-"+s.o.site+"-"+s.name).
		SetCleanSession(true).SetAutoReconnect(true).SetWill(s.topic("availability"), "offline", 1, true)
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

// onCommand verifies a command with the gate's verifier and carries out
// open and set_mode as the gate would, answering on cmd/<name>/result.
func (s *sim) onCommand(_ paho.Client, m paho.Message) {
	name := m.Topic()[strings.LastIndexByte(m.Topic(), '/')+1:]
	go func() { // paho's handler must not wait for our publishes
		s.commands.Add(1)
		res := command.Result{V: 1, Name: name, Site: s.o.site, Gate: s.name, Time: time.Now().UTC()}
		b, err := s.ver.Verify(name, m.Retained(), m.Payload())
		if err != nil {
			res = command.Rejected(name, s.o.site, s.name, time.Now(), err)
		} else {
			res.ID, res.Operator, res.Status = b.ID, b.Operator, command.StatusOK
			switch name {
			case command.Open:
				e := s.event(gate.KindRemoteOpen, "opened", []gate.Reason{"remote_open"}, "")
				if b.Args.Override {
					e.Reasons = append(e.Reasons, "override")
				}
				e.Operator, e.Request = b.Operator, b.ID
				if err := s.publishEvent(e); err != nil {
					res.Status, res.Detail = command.StatusFailed, err.Error()
				}
				res.Event = e.ID
				fmt.Println("cmd open", s.name, b.ID)
			case command.SetMode:
				s.mu.Lock()
				s.mode = gate.Mode(b.Args.Mode)
				s.mu.Unlock()
				e := s.event(gate.KindModeChange, b.Args.Mode, []gate.Reason{}, "")
				e.Operator, e.Request = b.Operator, b.ID
				_ = s.publishEvent(e)
				st, _ := json.Marshal(s.state())
				_ = s.pub("state", true, st)
				res.Event = e.ID
				fmt.Println("cmd set_mode", s.name, b.Args.Mode, b.ID)
			default:
				res.Status, res.Reason = command.StatusRefused, "not simulated"
			}
		}
		rb, _ := json.Marshal(res)
		_ = s.pub("cmd/"+name+"/result", false, rb)
	}()
}

// thermalPNG draws a small colourised thermal picture: a warm face-shaped
// blob on a cool background, hotter at the inner canthus for a fever.
func thermalPNG(temp float64) []byte {
	const w, h = 32, 24
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			dx, dy := (float64(x)-16)/7, (float64(y)-12)/9
			t := 24 + 10*math.Exp(-(dx*dx+dy*dy))
			ex, ey := (float64(x)-16)/2, (float64(y)-9)/1.5
			t += (temp - 34) * math.Exp(-(ex*ex + ey*ey))
			img.Set(x, y, ironbow((t-22)/(temp-22)))
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// ironbow maps 0–1 to the usual thermal palette (black, purple, red, yellow, white).
func ironbow(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	stops := []color.RGBA{{0, 0, 20, 255}, {80, 0, 140, 255}, {200, 30, 60, 255}, {250, 140, 0, 255}, {255, 240, 120, 255}, {255, 255, 255, 255}}
	p := v * float64(len(stops)-1)
	i := int(p)
	if i >= len(stops)-1 {
		return stops[len(stops)-1]
	}
	f := p - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(float64(x) + f*(float64(y)-float64(x))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// slowStream plays a slow browser: it opens the live stream with a 4 KiB
// receive buffer and reads 512 bytes every 250 ms (2 KiB/s, far less than
// the stream at full load) until the console tells it to reload or
// -slow-pause passes; it reports "slow: bytes=N reload=BOOL after=DURATION".
func slowStream(ctx context.Context, o options) error {
	u, err := url.Parse(o.slowStream)
	if err != nil {
		return err
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return err
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCookie: %s\r\n\r\n", u.RequestURI(), u.Host, o.cookie)
	start := time.Now()
	fmt.Println("slow: connected")
	var all []byte
	buf := make([]byte, 512)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	end := time.After(o.slowPause)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			fmt.Printf("slow: bytes=%d reload=false after=%s\n", len(all), time.Since(start).Round(time.Millisecond))
			return nil
		case <-t.C:
		}
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Read(buf)
		all = append(all, buf[:n]...)
		if bytes.Contains(all, []byte("event: reload")) {
			fmt.Printf("slow: bytes=%d reload=true after=%s\n", len(all), time.Since(start).Round(time.Millisecond))
			return nil
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			fmt.Printf("slow: bytes=%d reload=false after=%s closed=%v\n", len(all), time.Since(start).Round(time.Millisecond), err)
			return nil
		}
	}
}
