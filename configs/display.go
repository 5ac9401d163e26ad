package configs

import (
	"net"
	"slices"
	"strconv"
	"time"
)

// Display is the lane display: a full-screen page for a monitor at the lane,
// served by the daemon (gate/display) and shown by a browser in kiosk mode.
type Display struct {
	// Enabled serves the page.
	Enabled bool `yaml:"enabled"`
	// Listen is the page's host:port; loopback (127.0.0.1:8088) by default,
	// for a browser on the gate itself.
	Listen string `yaml:"listen"`
	// Language is en or zh-Hans.
	Language string `yaml:"language"`
	// Hold keeps a decision on show (and on the tower) at least this long
	// before the lane shows idle again: 0–30s.
	Hold time.Duration `yaml:"hold"`
	// Privacy hides names and temperatures from the lane.
	Privacy DisplayPrivacy `yaml:"privacy"`
	// Sound sets the page's sounds.
	Sound DisplaySound `yaml:"sound"`
}

// DisplayPrivacy hides personal data from the people around the lane.
type DisplayPrivacy struct {
	// HideNames shows "Welcome" without the holder's name.
	HideNames bool `yaml:"hide_names"`
	// HideTemperatures never shows a temperature.
	HideTemperatures bool `yaml:"hide_temperatures"`
}

// DisplaySound sets the page's sounds.
type DisplaySound struct {
	// Enabled plays a sound or a spoken prompt for each state.
	Enabled bool `yaml:"enabled"`
	// Speech speaks prompts with the browser's speech synthesis when it
	// has a voice for the language; otherwise tones are played.
	Speech bool `yaml:"speech"`
	// Mute lists the states whose prompt is silent (DisplayKinds).
	Mute []string `yaml:"mute"`
}

// DisplayKinds are the lane states, as display.sound.mute names them
// (gate/lane's kinds; a test keeps the two lists equal).
var DisplayKinds = []string{"idle", "code_seen", "remeasure", "admitted", "denied", "fever",
	"fire_alarm", "open", "locked", "maintenance"}

// Tower is the lane's signal tower: lights and a buzzer on GPIO outputs,
// wired through the same driver as gpio (device/tower).
type Tower struct {
	// Enabled drives the tower.
	Enabled bool `yaml:"enabled"`
	// Green, Red, Amber and Buzzer are the outputs; each is optional, at
	// least one is required.
	Green  *Output `yaml:"green"`
	Red    *Output `yaml:"red"`
	Amber  *Output `yaml:"amber"`
	Buzzer *Output `yaml:"buzzer"`
	// Blink is the half period of a blinking light: 100ms–2s.
	Blink time.Duration `yaml:"blink"`
	// Beep is the length of one short beep: 50ms–500ms.
	Beep time.Duration `yaml:"beep"`
	// BuzzerMode is "fallback" (beep only when the display plays no sound),
	// "always" or "off" (silent except the fire alarm's pulse, which only
	// "off" silences too).
	BuzzerMode string `yaml:"buzzer_mode"`
	// SafeState is what the tower shows when the daemon stops: "off" or
	// "red".
	SafeState string `yaml:"safe_state"`
}

// Output is one GPIO output of the tower.
type Output struct {
	// Pin is the pin name, e.g. GPIO5.
	Pin string `yaml:"pin"`
	// ActiveLow lights the lamp (sounds the buzzer) with a low level.
	ActiveLow bool `yaml:"active_low"`
}

// Outputs returns the tower's wired outputs by key (tower.green …).
func (t Tower) Outputs() map[string]*Output {
	out := map[string]*Output{}
	for key, o := range map[string]*Output{"tower.green": t.Green, "tower.red": t.Red, "tower.amber": t.Amber, "tower.buzzer": t.Buzzer} {
		if o != nil {
			out[key] = o
		}
	}
	return out
}

func defaultDisplay() Display {
	return Display{Listen: "127.0.0.1:8088", Language: "en", Hold: 3 * time.Second,
		Sound: DisplaySound{Enabled: true, Speech: true, Mute: []string{"idle"}}}
}

func defaultTower() Tower {
	return Tower{Blink: 500 * time.Millisecond, Beep: 120 * time.Millisecond, BuzzerMode: "fallback", SafeState: "off"}
}

// validateLane checks display.* and tower.*.
func (c *Config) validateLane(v *validator) {
	d := c.Display
	if host, port, err := net.SplitHostPort(d.Listen); err != nil {
		v.add("display.listen", "%q is not host:port: %v", d.Listen, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add("display.listen", "%q: port %q is not 0–65535", d.Listen, port)
	} else if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		v.add("display.listen", "%q: host must be an IP address or localhost", d.Listen)
	}
	v.oneOf("display.language", d.Language, "en", "zh-Hans")
	v.duration("display.hold", d.Hold, 0, 30*time.Second)
	for _, k := range d.Sound.Mute {
		if !slices.Contains(DisplayKinds, k) {
			v.oneOf("display.sound.mute", k, DisplayKinds...)
		}
	}

	t := c.Tower
	v.oneOf("tower.buzzer_mode", t.BuzzerMode, "fallback", "always", "off")
	v.oneOf("tower.safe_state", t.SafeState, "off", "red")
	v.duration("tower.blink", t.Blink, 100*time.Millisecond, 2*time.Second)
	v.duration("tower.beep", t.Beep, 50*time.Millisecond, 500*time.Millisecond)
	if !t.Enabled {
		return
	}
	outs := t.Outputs()
	if len(outs) == 0 {
		v.add("tower", "is enabled with no output: set tower.green, tower.red, tower.amber or tower.buzzer")
	}
	if t.SafeState == "red" && t.Red == nil {
		v.add("tower.safe_state", "is red but tower.red is not wired")
	}
	used := map[string]string{c.GPIO.Relay.Pin: "gpio.relay.pin"}
	for _, name := range c.GPIO.InputNames() {
		if in := c.GPIO.Input(name); in != nil {
			used[in.Pin] = "gpio." + name + ".pin"
		}
	}
	for _, key := range []string{"tower.green", "tower.red", "tower.amber", "tower.buzzer"} {
		o, ok := outs[key]
		if !ok {
			continue
		}
		if o.Pin == "" {
			v.add(key+".pin", "is required")
			continue
		}
		if prev, dup := used[o.Pin]; dup {
			v.add(key+".pin", "%s is already used by %s", o.Pin, prev)
			continue
		}
		used[o.Pin] = key + ".pin"
	}
}
