package configs

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// topicSafe matches a site or gate name that is safe inside an MQTT topic and
// a broker ACL pattern.
var topicSafe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate checks every value and returns all problems at once, each naming
// its key and what is wrong.
func (c *Config) Validate() error {
	v := &validator{}
	v.name("site", c.Site)
	v.name("gate", c.Gate)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")

	g := c.GPIO
	v.oneOf("gpio.driver", g.Driver, "periph", "simulated")
	v.required("gpio.relay.pin", g.Relay.Pin)
	v.oneOf("gpio.relay.mode", g.Relay.Mode, "pulse", "hold")
	v.duration("gpio.relay.pulse", g.Relay.Pulse, 100*time.Millisecond, 900*time.Millisecond)
	v.duration("gpio.relay.hold", g.Relay.Hold, time.Second, 10*time.Second)
	v.oneOf("gpio.relay.safe_state", g.Relay.SafeState, "locked", "open")
	pins := map[string]string{g.Relay.Pin: "gpio.relay.pin"}
	for _, name := range g.InputNames() {
		in := struct {
			key string
			in  *Input
		}{"gpio." + name, g.Input(name)}
		if in.in == nil {
			continue
		}
		v.required(in.key+".pin", in.in.Pin)
		if prev, dup := pins[in.in.Pin]; dup && in.in.Pin != "" {
			v.add(in.key+".pin", "%s is already used by %s", in.in.Pin, prev)
		}
		pins[in.in.Pin] = in.key + ".pin"
		v.oneOf(in.key+".pull", in.in.Pull, "up", "down", "none")
		v.duration(in.key+".debounce", in.in.Debounce, time.Millisecond, time.Second)
	}
	if g.FireAlarm != nil && !g.FireAlarm.NormallyClosed {
		v.add("gpio.fire_alarm.normally_closed", "must be true: a fire alarm loop is normally closed and supervised")
	}
	if g.FireAlarm != nil && g.FireReset == nil {
		v.add("gpio.fire_reset", "is required with gpio.fire_alarm: a fire alarm stays latched until a reset")
	}

	v.required("camera.source", c.Camera.Source)
	v.intRange("camera.width", c.Camera.Width, 16, 7680)
	v.intRange("camera.height", c.Camera.Height, 16, 4320)
	v.intRange("camera.fps", c.Camera.FPS, 1, 120)
	v.duration("camera.stall_timeout", c.Camera.StallTimeout, 100*time.Millisecond, time.Minute)
	if c.Vision.FaceModel == "" {
		v.required("vision.haar_cascade", c.Vision.HaarCascade)
	}
	v.intRange("vision.min_face_pixels", c.Vision.MinFacePixels, 8, 4096)
	fq := c.Vision.Quality
	v.intRange("vision.quality.min_eye_pixels", fq.MinEyePixels, 4, 2048)
	if !(fq.MinSharpness >= 0 && fq.MinSharpness <= 10000) {
		v.add("vision.quality.min_sharpness", "%v is outside 0–10000", fq.MinSharpness)
	}
	if !(fq.MaxYawDeg >= 5 && fq.MaxYawDeg <= 45) {
		v.add("vision.quality.max_yaw_deg", "%v is outside 5–45°", fq.MaxYawDeg)
	}
	if !(fq.MaxRollDeg >= 5 && fq.MaxRollDeg <= 45) {
		v.add("vision.quality.max_roll_deg", "%v is outside 5–45°", fq.MaxRollDeg)
	}

	t := c.Thermal
	v.oneOf("thermal.sensor", t.Sensor, "simulated", "mlx90640", "lepton", "amg8833", "uvc")
	v.celsius("thermal.fever_c", t.FeverC, 34.0, 39.0)
	if t.FeverC >= 34 && t.FeverC <= 39 && math.Abs(t.FeverC*10-math.Round(t.FeverC*10)) > 1e-6 {
		v.add("thermal.fever_c", "%v is not a multiple of 0.1 °C", t.FeverC)
	}
	v.celsius("thermal.core_offset_c", t.CoreOffsetC, -1.0, 3.0)
	v.celsius("thermal.min_skin_c", t.MinSkinC, 20.0, 34.0)
	v.celsius("thermal.cold_c", t.ColdC, 30.0, 36.5)
	if t.MinSkinC >= t.ColdC {
		v.add("thermal.min_skin_c", "%v must be below thermal.cold_c (%v)", t.MinSkinC, t.ColdC)
	}
	v.duration("thermal.max_age", t.MaxAge, 50*time.Millisecond, 10*time.Second)
	v.screening(t)
	v.thermalDriver(t)

	v.credentials(c.Credentials)

	p := c.Policy
	v.duration("policy.check_timeout", p.CheckTimeout, 500*time.Millisecond, 30*time.Second)
	v.onlineTimeout(c)
	v.duration("policy.passage_timeout", p.PassageTimeout, time.Second, 60*time.Second)
	v.duration("policy.repeat_suppress", p.RepeatSuppress, 0, 10*time.Minute)
	v.duration("policy.alert_window", p.AlertWindow, 0, 24*time.Hour)
	v.oneOf("policy.fever_action", p.FeverAction, "deny", "log")
	v.faces(c)

	m := c.MQTT
	if m.Enabled {
		v.brokers(m)
		v.required("mqtt.prefix", m.Prefix)
		if strings.ContainsAny(m.Prefix, "#+") {
			v.add("mqtt.prefix", "%q must not contain MQTT wildcards", m.Prefix)
		}
		if strings.ContainsAny(m.ClientID, "#+/") {
			v.add("mqtt.client_id", "%q must not contain '#', '+' or '/'", m.ClientID)
		}
		v.duration("mqtt.keepalive", m.KeepAlive, 5*time.Second, 10*time.Minute)
		v.duration("mqtt.connect_timeout", m.ConnectTimeout, time.Second, 2*time.Minute)
		v.duration("mqtt.publish_timeout", m.PublishTimeout, time.Second, 2*time.Minute)
	}
	v.intRange("outbox.max_events", c.Outbox.MaxEvents, 1000, 10_000_000)
	c.validateSecurity(v)
	if l := c.Metrics.Listen; l != "" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" {
			v.add("metrics.listen", "%q is not host:port (e.g. 127.0.0.1:9460 or :9460)", l)
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.add("metrics.listen", "port %q is not 1–65535", port)
		}
	}
	c.validateLane(v)
	if b := c.Outbox.MaxBytes; b < 16<<20 || b > 1<<40 {
		v.add("outbox.max_bytes", "%d is outside %d–%d (16 MiB–1 TiB)", b, int64(16<<20), int64(1<<40))
	}
	return v.err()
}

// validator collects problems; each names a key.
type validator struct{ errs []error }

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) required(key, val string) {
	if strings.TrimSpace(val) == "" {
		v.add(key, "is required")
	}
}

func (v *validator) name(key, val string) {
	if !topicSafe.MatchString(val) {
		v.add(key, "%q must be 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit", val)
	}
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.add(key, "%q is not one of %s", val, strings.Join(allowed, ", "))
	}
}

func (v *validator) duration(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(key, "%v is outside %v–%v", d, lo, hi)
	}
}

func (v *validator) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "%d is outside %d–%d", n, lo, hi)
	}
}

func (v *validator) celsius(key string, c, lo, hi float64) {
	if math.IsNaN(c) || c < lo || c > hi {
		v.add(key, "%v is outside %.1f–%.1f °C", c, lo, hi)
	}
}

// brokers checks mqtt.broker or each of mqtt.brokers, naming the key of
// every problem.
func (v *validator) brokers(m MQTT) {
	if len(m.Brokers) > 0 && m.Broker != "" && m.Broker != DefaultBroker {
		v.add("mqtt.broker", "and mqtt.brokers are both set: list every broker in mqtt.brokers")
	}
	tlsCount := 0
	for i, b := range m.BrokerURLs() {
		key := m.brokerKeys()[i]
		if tlsURL(b) {
			tlsCount++
		}
		if slices.Contains(m.BrokerURLs()[:i], b) {
			v.add(key, "%q is listed twice", b)
		}
		u, err := url.Parse(b)
		switch {
		case err != nil:
			v.add(key, "%q is not a URL: %v", b, err)
		case !slices.Contains([]string{"tcp", "ssl", "tls", "mqtt", "mqtts", "ws", "wss"}, u.Scheme):
			v.add(key, "%q: scheme must be tcp, ssl, tls, mqtt, mqtts, ws or wss", b)
		case u.Host == "":
			v.add(key, "%q has no host", b)
		}
		if u != nil && u.User != nil {
			v.add(key, "must not hold credentials: use mqtt.username and mqtt.password_env or mqtt.password_file")
		}
	}
	if tlsCount > 0 && tlsCount < len(m.BrokerURLs()) {
		v.add("mqtt.brokers", "mixes TLS and plain URLs: the gate would send its credentials in clear text to some; use TLS URLs for all")
	}
}
