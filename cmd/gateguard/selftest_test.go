package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// syncedClock makes the clock check pass, as on a gate with NTP.
func syncedClock(t *testing.T, s clockStatus, err error) {
	old := readClock
	readClock = func() (clockStatus, error) { return s, err }
	t.Cleanup(func() { readClock = old })
}

var everyCheck = []string{"gpio.relay", "gpio.passage", "gpio.exit_button", "gpio.fire_alarm", "gpio.fire_reset",
	"camera", "thermal.sensor", "thermal.frame", "thermal.blackbody", "mqtt.broker", "clock"}

// rows returns selftest's table as check name → result column.
func rows(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && !strings.HasPrefix(line, " ") {
			for i, w := range f[1:] {
				if w == "ok" || w == "FAIL" || w == "WARN" || w == "skip" {
					m[f[0]] = f[i+1]
					break
				}
			}
		}
	}
	return m
}

// TestSelftestDemo: on the demo config with its broker running and the
// clock synchronised, every check runs and passes.
func TestSelftestDemo(t *testing.T) {
	syncedClock(t, clockStatus{MaxError: 12000}, nil)
	broker := mqtttest.Start(t, "")
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Broker = broker.URL
	var out bytes.Buffer
	if err := runSelftest(context.Background(), cfg, true, &out); err != nil {
		t.Fatalf("selftest: %v\n%s", err, &out)
	}
	got := rows(out.String())
	for _, name := range everyCheck {
		if got[name] != "ok" {
			t.Errorf("%s: %q, want ok\n%s", name, got[name], &out)
		}
	}
	if !strings.Contains(out.String(), "selftest: 11 checks: 11 ok, 0 skipped, 0 warnings, 0 failed") {
		t.Errorf("summary missing:\n%s", &out)
	}
}

// TestSelftestDemoCommand runs the command as an installer would, on the
// demo config as shipped: it exits 0 even with no broker and an
// unsynchronised clock, which on a simulated gate are warnings, and it
// reports every check. With -strict they fail.
func TestSelftestDemoCommand(t *testing.T) {
	syncedClock(t, clockStatus{Unsynced: true, MaxError: 16000000}, nil)
	var out bytes.Buffer
	err := cmdSelftest(context.Background(), []string{"-c", "../../configs/demo.yaml"}, &out)
	if err != nil {
		t.Fatalf("selftest -c configs/demo.yaml: %v\n%s", err, &out)
	}
	got := rows(out.String())
	for _, name := range everyCheck {
		if got[name] == "" {
			t.Errorf("%s not reported\n%s", name, &out)
		}
	}
	if got["clock"] != "WARN" {
		t.Errorf("clock: %q, want WARN", got["clock"])
	}
	out.Reset()
	if err := cmdSelftest(context.Background(), []string{"-strict", "-c", "../../configs/demo.yaml"}, &out); err == nil ||
		!strings.Contains(err.Error(), "clock") {
		t.Errorf("selftest -strict: %v, want the clock named\n%s", err, &out)
	}
}

// TestSelftestMissingDevice: a config naming a device this machine does
// not have fails, and the table and the error name that device and say
// what to check.
func TestSelftestMissingDevice(t *testing.T) {
	syncedClock(t, clockStatus{}, nil)
	broker := mqtttest.Start(t, "")
	for _, tt := range []struct {
		name   string
		edit   func(c *configs.Config)
		check  string
		device string
	}{
		{"gpio pin", func(c *configs.Config) { c.GPIO.Driver = "periph"; c.GPIO.Relay.Pin = "GPIO99" }, "gpio.relay", "GPIO99"},
		{"i2c thermal sensor", func(c *configs.Config) { c.Thermal.Sensor, c.Thermal.I2CBus = "mlx90640", "/dev/i2c-7" },
			"thermal.sensor", "MLX90640 at 0x33 on /dev/i2c-7"},
		{"amg8833", func(c *configs.Config) { c.Thermal.Sensor, c.Thermal.I2CBus = "amg8833", "/dev/i2c-7" },
			"thermal.sensor", "AMG8833 at 0x69 on /dev/i2c-7"},
		{"camera", func(c *configs.Config) { c.Camera.Source = "/dev/video9" }, "camera", "/dev/video9"},
		{"broker", func(c *configs.Config) { c.MQTT.Broker = "tcp://127.0.0.1:1" }, "mqtt.broker", "tcp://127.0.0.1:1"},
		{"every broker", func(c *configs.Config) {
			c.MQTT.Broker, c.MQTT.Brokers = "", []string{"tcp://127.0.0.1:1", "tcp://127.0.0.1:2"}
		},
			"mqtt.broker", "tcp://127.0.0.1:2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := configs.Load("../../configs/demo.yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg.MQTT.Broker = broker.URL
			tt.edit(cfg)
			var out bytes.Buffer
			err = runSelftest(context.Background(), cfg, true, &out) // strict: a broker failure counts on the demo too
			if err == nil {
				t.Fatalf("selftest passed with a missing %s\n%s", tt.device, &out)
			}
			if !strings.Contains(err.Error(), tt.check+" ("+tt.device+")") {
				t.Errorf("error %q does not name %s (%s)", err, tt.check, tt.device)
			}
			if got := rows(out.String())[tt.check]; got != "FAIL" {
				t.Errorf("%s: %q, want FAIL\n%s", tt.check, got, &out)
			}
			if !strings.Contains(out.String(), "check: ") {
				t.Errorf("no hint of what to check\n%s", &out)
			}
		})
	}
}

func TestClockCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    clockStatus
		err  error
		want checkStatus
	}{
		{"synchronised", clockStatus{MaxError: 5000}, nil, statusOK},
		{"unsynchronised", clockStatus{Unsynced: true}, nil, statusFail},
		{"unreadable", clockStatus{}, errors.New("adjtimex: EPERM"), statusFail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			syncedClock(t, tt.s, tt.err)
			r := checkClock()
			if r.status != tt.want || (r.status == statusFail && r.hint == "") {
				t.Errorf("checkClock = %+v, want %v with a hint on failure", r, tt.want)
			}
		})
	}
}

// TestRelayTestSimulated pulses the simulated relay; the simulated
// turnstile answers each pulse with a passage, which relay-test reports.
func TestRelayTestSimulated(t *testing.T) {
	var out bytes.Buffer
	if err := cmdRelayTest(context.Background(), []string{"-c", "../../configs/demo.yaml", "-n", "2"}, &out); err != nil {
		t.Fatalf("relay-test: %v\n%s", err, &out)
	}
	for _, want := range []string{"pulse 1/2: passage active", "pulse 2/2: passage active", "2 pulses, passage seen after 2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q\n%s", want, &out)
		}
	}
}

// TestSelftestOneBrokerDown: with two brokers, one down is a warning while
// the other answers.
func TestSelftestOneBrokerDown(t *testing.T) {
	syncedClock(t, clockStatus{}, nil)
	broker := mqtttest.Start(t, "")
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Broker, cfg.MQTT.Brokers = "", []string{"tcp://127.0.0.1:1", broker.URL}
	var out bytes.Buffer
	if err := runSelftest(context.Background(), cfg, true, &out); err != nil {
		t.Fatalf("selftest: %v\n%s", err, &out)
	}
	if !strings.Contains(out.String(), "tcp://127.0.0.1:1") || !strings.Contains(out.String(), "1 warnings") {
		t.Errorf("the broker that is down is not a warning:\n%s", &out)
	}
}
