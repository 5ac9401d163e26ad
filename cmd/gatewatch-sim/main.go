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
//
// With -password-dir each gate logs in to gatewatch's embedded broker with
// its own credentials (gatewatch gate add -o DIR/GATE.password). With
// -postgres it runs nothing but a throwaway PostgreSQL server
// (gate/central/store/pgtest) for the soak on the large-site stack.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
)

type options struct {
	// faceModel and faceDim are the gates' face descriptor (enroll
	// commands are checked against it); refuseEnroll names gates whose
	// templates file cannot be written.
	faceModel, refuseEnroll string
	faceDim                 int

	broker, prefix, site, operator, pub, roster, names string
	gates                                              int
	rate                                               float64
	alertEvery                                         int
	duration                                           time.Duration
	slowStream, cookie                                 string
	slowPause                                          time.Duration
	passwordDir                                        string
	postgres                                           bool
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
	flag.StringVar(&o.faceModel, "face-model", "", "the gates' face descriptor model id (enroll commands must carry it)")
	flag.IntVar(&o.faceDim, "face-dim", 0, "the gates' face descriptor length (0: no faces, enroll refused)")
	flag.StringVar(&o.refuseEnroll, "refuse-enroll", "", "comma-separated gates that fail enroll commands (templates file unwritable)")
	flag.StringVar(&o.slowStream, "slow-stream", "", "instead of gates: open this live stream URL as a browser that stops reading")
	flag.StringVar(&o.cookie, "cookie", "", "-slow-stream: the session cookie (name=value)")
	flag.DurationVar(&o.slowPause, "slow-pause", time.Minute, "-slow-stream: how long to stop reading")
	flag.StringVar(&o.passwordDir, "password-dir", "", "log each gate in as SITE/GATE with the password in DIR/GATE.password (gatewatch gate add -o: the embedded broker)")
	flag.BoolVar(&o.postgres, "postgres", false, "instead of gates: run a throwaway PostgreSQL, print \"pg: ready DSN\", stop it when stdin closes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.postgres {
		if err := runPostgres(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "gatewatch-sim:", err)
			os.Exit(1)
		}
		return
	}
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

// run starts the simulated gates and answers script lines until standard
// input closes, -duration passes or ctx ends.
func run(ctx context.Context, o options) error {
	names := gateNames(o)
	ops, err := loadOperators(o)
	if err != nil {
		return err
	}
	people, holders, err := loadRoster(o)
	if err != nil {
		return err
	}
	var published, commands atomic.Int64
	sims, disconnect, err := startSims(&o, names, ops, &published, &commands)
	defer disconnect()
	if err != nil {
		return err
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
	return scriptLoop(ctx, cancel, o, sims, people, &wg, &published, &commands)
}

// gateNames is -names split at commas, or lane-1 … lane-N for -gates N.
func gateNames(o options) []string {
	names := strings.Split(o.names, ",")
	if o.names == "" {
		names = nil
		for i := 1; i <= o.gates; i++ {
			names = append(names, "lane-"+strconv.Itoa(i))
		}
	}
	return names
}

// loadOperators reads -pub into the one operator (-operator) the gates
// accept, allowed every command and override; none without -pub.
func loadOperators(o options) ([]command.Operator, error) {
	var ops []command.Operator
	if o.pub != "" {
		b, err := os.ReadFile(o.pub)
		if err != nil {
			return nil, err
		}
		k, err := command.ParsePublicKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.pub, err)
		}
		ops = []command.Operator{{ID: o.operator, Key: k, Allow: append(append([]string{}, command.Names...), command.PermOverride)}}
	}
	return ops, nil
}

// loadRoster reads -roster: its people (for history) and their ids (the
// background entries' holders); none without -roster.
func loadRoster(o options) (people []store.Person, holders []string, err error) {
	if o.roster != "" {
		f, err := os.Open(o.roster)
		if err != nil {
			return nil, nil, err
		}
		var err2 error
		people, err2 = api.ParseRoster(f)
		f.Close()
		if err2 != nil {
			return nil, nil, err2
		}
		for _, p := range people {
			holders = append(holders, p.ID)
		}
	}
	return people, holders, nil
}

// startSims makes and connects a sim per name, each with its own verifier
// when there are operators. disconnect (never nil, also after an error)
// disconnects the sims connected so far, the last first.
func startSims(o *options, names []string, ops []command.Operator, published, commands *atomic.Int64) (sims map[string]*sim, disconnect func(), err error) {
	var connected []*sim
	disconnect = func() {
		for i := len(connected) - 1; i >= 0; i-- {
			connected[i].client.Disconnect(250)
		}
	}
	sims = map[string]*sim{}
	for _, n := range names {
		s := &sim{name: n, o: o, mode: gate.ModeNormal, published: published, commands: commands}
		if len(ops) > 0 {
			v, err := command.NewVerifier(command.Options{Site: o.site, Gate: n, Operators: ops, Nonces: &command.MemoryNonces{},
				FaceModel: o.faceModel, FaceDim: o.faceDim})
			if err != nil {
				return nil, disconnect, err
			}
			s.ver = v
		}
		if err := s.connect(); err != nil {
			return nil, disconnect, err
		}
		connected = append(connected, s)
		sims[n] = s
	}
	return sims, disconnect, nil
}

// scriptLoop answers the script lines on standard input until ctx ends,
// then waits for the background entries and prints the final stats.
// Standard input closing ends the run (cancel) unless -duration is set.
func scriptLoop(ctx context.Context, cancel context.CancelFunc, o options, sims map[string]*sim, people []store.Person,
	wg *sync.WaitGroup, published, commands *atomic.Int64) error {
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
			if err := script(sims, people, l, published, commands); err != nil {
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
