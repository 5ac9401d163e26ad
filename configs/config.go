// Package configs holds GateGuard's configuration: its schema as Go types, the
// defaults, loading from YAML with strict key checking, and validation that
// reports every problem at once. The example files an installer copies
// (demo.yaml, raspberrypi.yaml, the systemd unit, the Mosquitto config) live in
// this folder too, and tests load every one of them.
package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is the whole configuration of one gate daemon.
type Config struct {
	// Site names the factory or site; it is part of every MQTT topic.
	Site string `yaml:"site"`
	// Gate names this lane; it is part of every MQTT topic and event.
	Gate string `yaml:"gate"`
	// Log sets the daemon's log output.
	Log Log `yaml:"log"`
	// GPIO describes the turnstile relay and the digital inputs.
	GPIO GPIO `yaml:"gpio"`
	// Camera is the face camera.
	Camera Camera `yaml:"camera"`
	// Vision sets the face and QR detectors.
	Vision Vision `yaml:"vision"`
	// Thermal is the thermal camera and the fever thresholds.
	Thermal Thermal `yaml:"thermal"`
	// Credentials sets how QR payloads are verified.
	Credentials Credentials `yaml:"credentials"`
	// Policy sets how the gate decides.
	Policy Policy `yaml:"policy"`
	// MQTT is the connection to the central broker.
	MQTT MQTT `yaml:"mqtt"`
	// Outbox is the local store of events not yet published.
	Outbox Outbox `yaml:"outbox"`
	// Commands sets the signed commands the gate accepts over MQTT.
	Commands Commands `yaml:"commands"`
	// Metrics is the Prometheus endpoint; off unless Listen is set.
	Metrics Metrics `yaml:"metrics"`
	// Display is the lane display (display.go).
	Display Display `yaml:"display"`
	// Tower is the lane's signal tower (display.go).
	Tower Tower `yaml:"tower"`
	// Faces sets face verification and the enrolled templates.
	Faces Faces `yaml:"faces"`

	// Hash is the SHA-256 of the file the config was loaded from, in hex. It is
	// published in the retained info topic so the central side can tell which
	// configuration a gate runs. It is not read from YAML.
	Hash string `yaml:"-"`
	// Path is the file the config was loaded from; empty for Default().
	Path string `yaml:"-"`
}

// Log sets the log level and format.
type Log struct {
	// Level is one of debug, info, warn, error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// GPIO describes the relay and inputs and which driver reaches them.
type GPIO struct {
	// Driver is "periph" for real pins through periph.io host drivers, or
	// "simulated" for in-memory pins driven by a scenario.
	Driver string `yaml:"driver"`
	// Relay is the turnstile's open signal.
	Relay Relay `yaml:"relay"`
	// Passage is the turnstile's passage sensor (PASS output); optional.
	Passage *Input `yaml:"passage"`
	// ExitButton is the request-to-exit button; optional.
	ExitButton *Input `yaml:"exit_button"`
	// FireAlarm is the fire alarm contact, normally closed and supervised; optional.
	FireAlarm *Input `yaml:"fire_alarm"`
	// FireReset is the key switch that ends a latched fire alarm; optional.
	FireReset *Input `yaml:"fire_reset"`
}

// Relay is the output that opens the turnstile.
type Relay struct {
	// Pin is the pin name as periph knows it after host.Init, e.g. GPIO17.
	Pin string `yaml:"pin"`
	// ActiveLow is true when the relay board energises on a low level.
	ActiveLow bool `yaml:"active_low"`
	// Mode is "pulse" (a short open signal; the turnstile lets one person
	// through) or "hold" (the output stays on for Hold).
	Mode string `yaml:"mode"`
	// Pulse is the pulse length in pulse mode: 100ms–900ms.
	Pulse time.Duration `yaml:"pulse"`
	// Hold is how long the output stays on in hold mode: 1s–10s.
	Hold time.Duration `yaml:"hold"`
	// SafeState is the state the lane is left in on shutdown and when the
	// gate cannot decide: "locked" (fail-secure) or "open" (fail-safe).
	SafeState string `yaml:"safe_state"`
}

// Input is a debounced digital input.
type Input struct {
	// Pin is the pin name, e.g. GPIO27.
	Pin string `yaml:"pin"`
	// ActiveLow is true when a closed contact reads as a low level (a contact
	// to ground with a pull-up), the usual wiring.
	ActiveLow bool `yaml:"active_low"`
	// Pull is up, down or none.
	Pull string `yaml:"pull"`
	// Debounce is how long a level must hold before it counts: 1ms–1s.
	Debounce time.Duration `yaml:"debounce"`
	// NormallyClosed marks a supervised contact: the input is active (an
	// alarm) when the contact opens, so a cut wire also raises it.
	NormallyClosed bool `yaml:"normally_closed"`
}

// Camera is the face camera source.
type Camera struct {
	// Source is "simulated", a V4L2 device (/dev/video0 or an index), an
	// RTSP URL, a video file or an image sequence pattern.
	Source string `yaml:"source"`
	// Width and Height request a capture size in pixels.
	Width  int `yaml:"width"`
	Height int `yaml:"height"`
	// FPS requests a frame rate.
	FPS int `yaml:"fps"`
	// StallTimeout is how long without a frame before the camera is reported
	// as stalled and reopened.
	StallTimeout time.Duration `yaml:"stall_timeout"`
}

// Vision sets the detectors that run on camera frames.
type Vision struct {
	// FaceModel is the path of a YuNet ONNX model; empty uses HaarCascade.
	FaceModel string `yaml:"face_model"`
	// HaarCascade is the path of an OpenCV Haar cascade for faces.
	HaarCascade string `yaml:"haar_cascade"`
	// MinFacePixels is the smallest face width, in pixels, that is measured.
	MinFacePixels int `yaml:"min_face_pixels"`
	// Quality is what makes a face good enough to trust (vision.Assess).
	Quality FaceQuality `yaml:"quality"`
}

// FaceQuality are the limits of a good face: close enough, sharp, square-on.
type FaceQuality struct {
	// MinEyePixels is the least distance between the eyes, in pixels.
	MinEyePixels int `yaml:"min_eye_pixels"`
	// MinSharpness is the least variance of the Laplacian over the face.
	MinSharpness float64 `yaml:"min_sharpness"`
	// MaxYawDeg and MaxRollDeg bound the head's turn and tilt in degrees
	// (fever screening rejects faces turned more than 15°). MaxYawDeg is
	// also the thermometer's limit: a face turned further is measured
	// again.
	MaxYawDeg  float64 `yaml:"max_yaw_deg"`
	MaxRollDeg float64 `yaml:"max_roll_deg"`
}

// Thermal is the thermal camera and fever screening thresholds.
type Thermal struct {
	// Sensor is simulated, mlx90640, lepton, amg8833 or uvc.
	Sensor string `yaml:"sensor"`
	// I2CBus names the I2C bus for mlx90640, amg8833 and lepton CCI.
	I2CBus string `yaml:"i2c_bus"`
	// SPIPort names the SPI port for the Lepton's VoSPI.
	SPIPort string `yaml:"spi_port"`
	// FeverC is the fever threshold applied to the core estimate: 34.0–39.0 °C
	// in 0.1 °C steps; 37.3 °C by default.
	FeverC float64 `yaml:"fever_c"`
	// CoreOffsetC is added to the measured skin temperature to estimate core
	// temperature (site calibration).
	CoreOffsetC float64 `yaml:"core_offset_c"`
	// ColdC is the skin temperature below which a reading asks the person to
	// wait and be measured again (arrival from the cold).
	ColdC float64 `yaml:"cold_c"`
	// MinSkinC is the skin temperature below which a face is taken to have no
	// body heat behind it (a photo or a screen).
	MinSkinC float64 `yaml:"min_skin_c"`
	// MaxAge is how old the latest thermal frame may be when measuring.
	MaxAge time.Duration `yaml:"max_age"`
	// Screening holds the fever-screening keys (configs/thermal.go).
	Screening `yaml:",inline"`
	// I2CAddr overrides the sensor's I²C address (mlx90640: 0x33, amg8833:
	// 0x69 or 0x68); 0 keeps the default.
	I2CAddr int `yaml:"i2c_addr"`
	// RefreshHz is the sensor's rate: the MLX90640 subpage rate (0.5, 1, 2,
	// 4, 8, 16, 32 or 64; a frame is two subpages) or the AMG8833 frame
	// rate (1 or 10); 0 keeps the driver's default.
	RefreshHz float64 `yaml:"refresh_hz"`
	// Emissivity is the skin's emissivity used by the MLX90640's
	// temperature equations: 0.98 by default.
	Emissivity float64 `yaml:"emissivity"`
	// UVCDevice is the radiometric Y16 camera for sensor uvc: /dev/videoN,
	// or a printf pattern of 16-bit PNG files to replay a recording.
	UVCDevice string `yaml:"uvc_device"`
}

// Credentials sets how QR payloads are verified.
type Credentials struct {
	// Mode is how a payload becomes a credential. "presence" (insecure)
	// accepts any non-empty payload as green, holder = payload, and every
	// event says insecure_credential: for demos and bench tests only.
	// "verified" checks signatures or asks the health-code platform, for
	// the kinds listed in Accept.
	Mode string `yaml:"mode"`
	// Accept lists the credential kinds this gate accepts when Mode is
	// verified: site_pass, dcc, health_code.
	Accept []string `yaml:"accept"`
	// SitePass configures signed site passes.
	SitePass SitePass `yaml:"site_pass"`
	// DCC configures EU Digital COVID Certificates.
	DCC DCC `yaml:"dcc"`
	// HealthCode configures colour-coded health codes.
	HealthCode HealthCode `yaml:"health_code"`
	// AntiPassback configures anti-passback and repeated-use detection.
	AntiPassback AntiPassback `yaml:"anti_passback"`
}

// Policy sets the gate's decision rules.
type Policy struct {
	// CheckTimeout bounds how long the gate waits for a face and a temperature
	// after a credential is seen.
	CheckTimeout time.Duration `yaml:"check_timeout"`
	// PassageTimeout is how long the lane stays open for a passage.
	PassageTimeout time.Duration `yaml:"passage_timeout"`
	// RepeatSuppress is how long the same code is ignored after a decision.
	RepeatSuppress time.Duration `yaml:"repeat_suppress"`
	// AlertWindow rate-limits fever and spoof alerts per person (never
	// globally): repeats by one person within it update that person's alert
	// at most once per window instead of raising new ones; 0 turns it off.
	AlertWindow time.Duration `yaml:"alert_window"`
	// FeverAction is "deny" (deny and alert) or "log" (admit and alert).
	FeverAction string `yaml:"fever_action"`
	// RequireFace denies when no face is seen with the credential.
	RequireFace bool `yaml:"require_face"`
	// RequireTemperature denies when no skin temperature can be measured.
	RequireTemperature bool `yaml:"require_temperature"`
	// MultipleFaces is what more than one face in the checking zone does:
	// deny (reason multiple_faces and a tailgating alert) or screen_all
	// (every face in the zone must pass the temperature check).
	MultipleFaces string `yaml:"multiple_faces"`
}

// MQTT is the broker connection.
type MQTT struct {
	// Enabled turns publishing on. Events are kept in the outbox file
	// (outbox.path) either way; with neither, they are only logged.
	Enabled bool `yaml:"enabled"`
	// Broker is the broker URL: tcp://host:1883, ssl://host:8883 or ws://.
	// It is the one broker when Brokers is empty.
	Broker string `yaml:"broker"`
	// Brokers lists several broker URLs (the nodes of a clustered broker):
	// each connection attempt tries them in turn, so the gate fails over to
	// the next when one is down. When set it replaces Broker; setting both
	// is an error. All must be TLS URLs, or none.
	Brokers []string `yaml:"brokers"`
	// ClientID must be unique per gate; empty means gateguard-<site>-<gate>.
	ClientID string `yaml:"client_id"`
	// Username for the broker, if it asks for one.
	Username string `yaml:"username"`
	// PasswordEnv names an environment variable holding the password.
	PasswordEnv string `yaml:"password_env"`
	// PasswordFile names a file holding the password.
	PasswordFile string `yaml:"password_file"`
	// AllowInsecurePassword lets a password (password_env or password_file)
	// go to a broker over a plain tcp://, mqtt:// or ws:// URL, where anyone
	// on the network path reads it. Without it such a config does not load;
	// with it the daemon logs an INSECURE warning at start. For a lab
	// broker only: use a TLS URL instead.
	AllowInsecurePassword bool `yaml:"allow_insecure_password"`
	// Prefix is the topic prefix; the full prefix is <prefix>/<site>/<gate>.
	Prefix string `yaml:"prefix"`
	// KeepAlive is the MQTT keep-alive interval.
	KeepAlive time.Duration `yaml:"keepalive"`
	// ConnectTimeout bounds one connection attempt.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// PublishTimeout bounds the wait for one PUBACK.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// TLS verifies the broker and, optionally, authenticates the gate by certificate.
	TLS TLS `yaml:"tls"`
	// HomeAssistant publishes Home Assistant discovery configs (off by default).
	HomeAssistant HomeAssistant `yaml:"homeassistant"`
}

// Outbox is the local store of events waiting to be published.
type Outbox struct {
	// Path is the outbox file; empty keeps events in memory only.
	Path string `yaml:"path"`
	// MaxEvents is how many unpublished events the outbox holds.
	MaxEvents int `yaml:"max_events"`
	// MaxBytes is the disk budget of the outbox file at Path, in bytes
	// (16 MiB–1 TiB; 256 MiB by default, room for about 300,000 typical
	// events; MaxEvents also caps the count). Past 90% of either it drops
	// stored snapshots, oldest first, and raises an outbox alert; when full,
	// records are refused and the gate denies entries.
	MaxBytes int64 `yaml:"max_bytes"`
	// PublishSnapshots keeps the thermal picture of each fever or spoof
	// alert in the outbox file and publishes it on snapshot/<hash> (true by
	// default; needs outbox.path and mqtt.enabled). false keeps images off
	// the network: the alert still carries the picture's hash.
	PublishSnapshots bool `yaml:"publish_snapshots"`
}

// Default returns the configuration used for every key a file leaves out.
func Default() *Config {
	return &Config{
		Site: "site",
		Gate: "gate-1",
		Log:  Log{Level: "info", Format: "text"},
		GPIO: GPIO{
			Driver: "periph",
			Relay: Relay{
				Pin:       "GPIO17",
				Mode:      "pulse",
				Pulse:     200 * time.Millisecond,
				Hold:      3 * time.Second,
				SafeState: "locked",
			},
		},
		Camera: Camera{
			Source:       "/dev/video0",
			Width:        640,
			Height:       480,
			FPS:          15,
			StallTimeout: 3 * time.Second,
		},
		Vision: Vision{
			HaarCascade:   "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
			MinFacePixels: 60,
			Quality:       FaceQuality{MinEyePixels: 30, MinSharpness: 20, MaxYawDeg: 15, MaxRollDeg: 20},
		},
		Thermal: Thermal{
			Sensor:   "mlx90640",
			I2CBus:   "",
			FeverC:   37.3,
			ColdC:    34.5,
			MinSkinC: 30.0,
			MaxAge:   time.Second,

			Screening: DefaultScreening(),
			// Human skin.
			Emissivity: 0.98,
		},
		Credentials: defaultCredentials(),
		Policy: Policy{
			CheckTimeout:       3 * time.Second,
			PassageTimeout:     5 * time.Second,
			RepeatSuppress:     5 * time.Second,
			AlertWindow:        time.Minute,
			FeverAction:        "deny",
			RequireFace:        true,
			RequireTemperature: true,
			MultipleFaces:      "deny",
		},
		Faces: defaultFaces(),
		MQTT: MQTT{
			Enabled:        true,
			Broker:         DefaultBroker,
			Prefix:         "gateguard/v1",
			KeepAlive:      30 * time.Second,
			ConnectTimeout: 10 * time.Second,
			PublishTimeout: 10 * time.Second,
			HomeAssistant:  HomeAssistant{Prefix: "homeassistant"},
		},
		Outbox: Outbox{MaxEvents: 100000, MaxBytes: 256 << 20, PublishSnapshots: true},

		Commands: Commands{MaxBytes: 4096, MaxTTL: 5 * time.Minute},
		Display:  defaultDisplay(),
		Tower:    defaultTower(),
	}
}

// Load reads, parses and validates the file at path. Its error lists every
// problem found, each naming the key (and line, for YAML errors).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Path = path
	c.resolvePaths()
	return c, nil
}

// Parse parses and validates YAML; name is used in error messages.
func Parse(data []byte, name string) (*Config, error) {
	c := Default()
	if err := decodeStrict(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	c.Hash = hex.EncodeToString(sum[:])
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// ClientID returns the MQTT client id, defaulted from the site and gate.
func (c *Config) ClientID() string {
	if c.MQTT.ClientID != "" {
		return c.MQTT.ClientID
	}
	return "gateguard-" + c.Site + "-" + c.Gate
}

// TopicPrefix returns <prefix>/<site>/<gate>, the root of this gate's topics.
func (c *Config) TopicPrefix() string {
	return strings.TrimSuffix(c.MQTT.Prefix, "/") + "/" + c.Site + "/" + c.Gate
}

// DefaultBroker is mqtt.broker's default.
const DefaultBroker = "tcp://127.0.0.1:1883"

// BrokerURLs returns the brokers to try in turn: mqtt.brokers, or
// mqtt.broker as a one-item list.
func (m MQTT) BrokerURLs() []string {
	if len(m.Brokers) > 0 {
		return m.Brokers
	}
	return []string{m.Broker}
}

// brokerKeys returns the config key naming each of BrokerURLs.
func (m MQTT) brokerKeys() []string {
	if len(m.Brokers) == 0 {
		return []string{"mqtt.broker"}
	}
	keys := make([]string, len(m.Brokers))
	for i := range m.Brokers {
		keys[i] = fmt.Sprintf("mqtt.brokers[%d]", i)
	}
	return keys
}

// UsesTLS reports whether the brokers are reached over TLS (validation
// refuses a list that mixes TLS and plain URLs).
func (m MQTT) UsesTLS() bool {
	for _, b := range m.BrokerURLs() {
		if !tlsURL(b) {
			return false
		}
	}
	return true
}

// InsecurePassword reports whether a broker password is configured for a
// plain (non-TLS) broker URL, which validation allows only with
// allow_insecure_password; the daemon logs a warning when it is true.
func (m MQTT) InsecurePassword() bool {
	return m.Enabled && (m.PasswordEnv != "" || m.PasswordFile != "") && !m.UsesTLS()
}

// Password returns the broker password from the environment variable or the
// file the config names; empty when neither is set. The password is never
// stored in Config, so it never reaches a log through it.
func (m MQTT) Password() (string, error) {
	if m.PasswordEnv != "" {
		if v, ok := os.LookupEnv(m.PasswordEnv); ok {
			return v, nil
		}
	}
	if m.PasswordFile != "" {
		b, err := os.ReadFile(m.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("configs: mqtt.password_file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the host:port the /metrics endpoint listens on (e.g.
	// "127.0.0.1:9460", or ":9460" on every interface); empty is off, the
	// default. The endpoint has no authentication: bind it to a management
	// network or to loopback behind a proxy.
	Listen string `yaml:"listen"`
}
