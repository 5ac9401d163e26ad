package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/input"
	"github.com/gateguard/gateguard/device/relay"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
	"github.com/gateguard/gateguard/vision/camera"
	vsim "github.com/gateguard/gateguard/vision/sim"
)

// A check's outcome.
type checkStatus int

const (
	statusOK checkStatus = iota
	statusSkip
	statusWarn
	statusFail
)

func (s checkStatus) String() string {
	return [...]string{"ok", "skip", "WARN", "FAIL"}[s]
}

// checkResult is one row of selftest's table.
type checkResult struct {
	name   string // the check, named after its config key
	device string // what was checked: a pin, a bus address, a URL
	status checkStatus
	detail string // what was seen, or the error
	hint   string // what to check when it failed
}

// selftest checks every configured device. Its checks open what they test
// and close it before the next one.
type selftest struct {
	cfg *configs.Config
	// simulated is true for a config whose GPIO, camera and thermal camera
	// are all simulated (the demo): nothing was installed, so the host's
	// checks (clock, broker) are warnings there unless strict is set.
	simulated bool
	strict    bool
	results   []checkResult
}

func cmdSelftest(ctx context.Context, args []string, w io.Writer) error {
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	path := fs.String("c", "/etc/gateguard/gateguard.yaml", "config file")
	strict := fs.Bool("strict", false, "on a simulated config, fail on the clock and broker checks too")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"selftest: unexpected arguments"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	return runSelftest(ctx, cfg, *strict, w)
}

// runSelftest checks every device cfg names, prints the table to w and
// returns an error naming every failed check.
func runSelftest(ctx context.Context, cfg *configs.Config, strict bool, w io.Writer) error {
	st := &selftest{cfg: cfg, strict: strict,
		simulated: cfg.GPIO.Driver == "simulated" && cfg.Camera.Source == "simulated" && cfg.Thermal.Sensor == "simulated"}
	st.run(ctx)
	return st.report(w)
}

// run runs every check in turn.
func (st *selftest) run(ctx context.Context) {
	st.checkGPIO()
	st.checkCamera(ctx)
	st.checkThermal()
	st.checkBroker(ctx)
	st.add(checkClock())
	if st.simulated && !st.strict {
		for i := range st.results {
			if r := &st.results[i]; r.status == statusFail && (r.name == "mqtt.broker" || r.name == "clock") {
				r.status = statusWarn
				r.hint += " (a warning on a simulated config; -strict makes it a failure)"
			}
		}
	}
}

func (st *selftest) add(r checkResult) { st.results = append(st.results, r) }

// fail records a failed check.
func (st *selftest) fail(name, device string, err error, hint string) {
	st.add(checkResult{name: name, device: device, status: statusFail, detail: err.Error(), hint: hint})
}

// report prints the table and returns an error when any check failed.
func (st *selftest) report(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tDEVICE\tRESULT\tDETAIL")
	counts := map[checkStatus]int{}
	lastHint := ""
	for _, r := range st.results {
		counts[r.status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.name, r.device, r.status, oneLine(r.detail))
		if r.status >= statusWarn && r.hint != "" {
			hint := r.hint
			if hint == lastHint {
				hint = "as above"
			}
			lastHint = r.hint
			fmt.Fprintf(tw, "\t\t\t  check: %s\n", hint)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "selftest: %d checks: %d ok, %d skipped, %d warnings, %d failed\n",
		len(st.results), counts[statusOK], counts[statusSkip], counts[statusWarn], counts[statusFail])
	if n := counts[statusFail]; n > 0 {
		var names []string
		for _, r := range st.results {
			if r.status == statusFail {
				names = append(names, r.name+" ("+r.device+")")
			}
		}
		return fmt.Errorf("selftest: %d failed: %s", n, strings.Join(names, ", "))
	}
	return nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// gpioHint is what to check when a pin cannot be found or claimed.
const gpioHint = "the pin name in the config (periph names, GPIOn = BCM numbering, not header pins); " +
	"that /dev/gpiochip* exists and the gateguard user is in group gpio; that no other process or " +
	"kernel overlay holds the line (gpioinfo)"

// checkGPIO finds and claims every configured pin: the relay as an output
// left in its safe state, the inputs as inputs, read once.
func (st *selftest) checkGPIO() {
	g := st.cfg.GPIO
	byName, err := pinFinder(g.Driver)
	if err != nil {
		st.fail("gpio", g.Driver, err, "the GPIO driver: is this a Raspberry Pi with /dev/gpiochip*?")
		return
	}
	if pin, err := byName("gpio.relay.pin", g.Relay.Pin, gpio.Low); err != nil {
		st.fail("gpio.relay", g.Relay.Pin, err, gpioHint)
	} else if r, err := relay.New(pin, relayOpts(g.Relay)); err != nil {
		st.fail("gpio.relay", g.Relay.Pin, err, gpioHint)
	} else if err := r.Halt(); err != nil {
		st.fail("gpio.relay", g.Relay.Pin, err, gpioHint)
	} else {
		st.add(checkResult{name: "gpio.relay", device: g.Relay.Pin, detail: "claimed as an output, left " + g.Relay.SafeState + " (safe state)"})
	}
	for _, kind := range gate.Inputs {
		key := "gpio." + kind.String()
		in := g.Input(kind.String())
		if in == nil {
			st.add(checkResult{name: key, device: "-", status: statusSkip, detail: "not configured"})
			continue
		}
		pin, err := byName(key+".pin", in.Pin, inputRest(in))
		if err != nil {
			st.fail(key, in.Pin, err, gpioHint)
			continue
		}
		dev, err := input.New(pin, inputOpts(in))
		if err != nil {
			st.fail(key, in.Pin, err, gpioHint)
			continue
		}
		if sp, ok := pin.(interface{ Set(gpio.Level) }); ok && g.Driver == "simulated" {
			sp.Set(inputRest(in)) // the simulated contact at rest
		}
		r := checkResult{name: key, device: in.Pin, detail: "claimed as an input, reads " + activeWord(dev.Active())}
		if in.NormallyClosed && dev.Active() {
			r.status = statusFail
			r.detail = "claimed as an input; the normally-closed loop is open (alarm or cut wire)"
			r.hint = "the fire panel's relay contact and its wiring to the pin and GND; the loop must be closed at rest"
		}
		st.add(r)
	}
}

func activeWord(active bool) string {
	if active {
		return "active"
	}
	return "inactive (at rest)"
}

// checkCamera opens the face camera and reads a few frames of the
// configured size.
func (st *selftest) checkCamera(ctx context.Context) {
	c := st.cfg.Camera
	const frames = 5
	var (
		r     camera.Reader
		close func() error
	)
	if c.Source == "simulated" {
		cam, err := vsim.New(c.Width, c.Height, c.FPS)
		if err != nil {
			st.fail("camera", c.Source, err, "camera.width, camera.height and camera.fps")
			return
		}
		r, close = cam, cam.Close
	} else {
		cam, err := camera.Open(c.Source, c.Width, c.Height, c.FPS)
		if err != nil {
			st.fail("camera", c.Source, err, "camera.source: is the camera plugged in (ls /dev/video*, v4l2-ctl --list-devices), "+
				"is the gateguard user in group video, is the stream URL right and reachable?")
			return
		}
		r, close = cam, cam.Close
	}
	defer close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := camera.CheckFrames(rctx, r, c.Width, c.Height, frames); err != nil {
		st.fail("camera", c.Source, err, "the camera delivers frames of camera.width×camera.height "+
			"(v4l2-ctl --list-formats-ext); set the config to a size it supports")
		return
	}
	st.add(checkResult{name: "camera", device: c.Source, detail: fmt.Sprintf("%d frames of %dx%d", frames, c.Width, c.Height)})
}

// checkBroker connects to the broker with the configured credentials and TLS.
func (st *selftest) checkBroker(ctx context.Context) {
	m := st.cfg.MQTT
	urls := m.BrokerURLs()
	if !m.Enabled || len(urls) == 0 {
		st.add(checkResult{name: "mqtt.broker", device: "-", status: statusSkip, detail: "mqtt.enabled is false"})
		return
	}
	pw, err := m.Password()
	if err != nil {
		st.fail("mqtt.broker", urls[0], err, "mqtt.password_file or mqtt.password_env")
		return
	}
	tc, err := tlsConfig(m)
	if err != nil {
		st.fail("mqtt.broker", urls[0], err, "mqtt.tls: the CA, certificate and key files exist and are readable by the gateguard user")
		return
	}
	how := "plain TCP"
	if tc != nil {
		how = "TLS, certificate verified"
		if len(tc.Certificates) > 0 {
			how += ", client certificate accepted"
		}
	}
	timeout := m.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// Every node of a clustered broker is tried: one down is a warning while
	// another answers, all down a failure.
	first, reached := len(st.results), 0
	for _, u := range urls {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := mqtt.Probe(pctx, mqtt.Options{Broker: u, ClientID: st.cfg.ClientID(), Username: m.Username,
			Password: pw, TLS: tc, ConnectTimeout: timeout})
		cancel()
		if err != nil {
			st.fail("mqtt.broker", u, err, brokerHint(err))
			continue
		}
		reached++
		st.add(checkResult{name: "mqtt.broker", device: u, detail: "connected (" + how + ")"})
	}
	for i := first; reached > 0 && i < len(st.results); i++ {
		if r := &st.results[i]; r.status == statusFail {
			r.status = statusWarn
			r.hint += " (another broker of mqtt.brokers answered: the gate publishes through it)"
		}
	}
}

// brokerHint says what to check for a failed connection.
func brokerHint(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "certificate") || strings.Contains(s, "tls") || strings.Contains(s, "x509"):
		return "mqtt.tls.ca_file is the CA that signed the broker's certificate, mqtt.tls.server_name (or the URL's host) matches it, and the clock is right"
	case strings.Contains(s, "not Authorized") || strings.Contains(s, "bad user name or password"):
		return "mqtt.username and the password; the broker's ACL for this gate (configs/mosquitto-acl.conf)"
	}
	return "mqtt.broker's host and port, the network (ping, nc -vz HOST PORT), and that the broker runs"
}

// errNotFound reports a configured device that is not on this machine.
var errNotFound = errors.New("not found on this machine")
