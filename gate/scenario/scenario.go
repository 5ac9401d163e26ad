// Package scenario reads simulation scenarios and plays them against a running
// gate: people arriving with a QR code and a face (with or without body heat),
// walking through or not, the exit button, a fire alarm and its reset. A
// scenario drives simulated devices through a World; it waits for the gate's
// own events between steps, never for fixed times, and checks each step's
// expected decision.
package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Scenario is a list of steps played in order.
type Scenario struct {
	Name  string `yaml:"name"`
	Steps []Step `yaml:"steps"`
	// Dir is the scenario file's folder; relative image paths resolve from it.
	Dir string `yaml:"-"`
}

// Step is one thing that happens at the gate. Exactly one of Arrive,
// FireAlarm, FireReset, ExitButton, Thermal and Enroll is set.
type Step struct {
	// Name describes the step in logs.
	Name       string   `yaml:"name"`
	Arrive     *Arrival `yaml:"arrive"`
	FireAlarm  bool     `yaml:"fire_alarm"`
	FireReset  bool     `yaml:"fire_reset"`
	ExitButton bool     `yaml:"exit_button"`
	// Thermal changes the thermal camera's scene (drift, blackbody).
	Thermal *ThermalStep `yaml:"thermal"`
	// Enroll enrols a person's face from a photo, as `gateguard enroll add`
	// does, before the steps that follow.
	Enroll *Enrolment `yaml:"enroll"`
	// Expect is the decision the step must produce: admitted or denied for
	// an arrival; opened for the exit button and the fire alarm; reset.
	Expect string `yaml:"expect"`
	// ExpectReasons, when set, must equal the event's reasons.
	ExpectReasons []string `yaml:"expect_reasons"`
}

// Arrival is a person at the gate.
type Arrival struct {
	// QR is the payload of the code the person shows; empty for none.
	QR string `yaml:"qr"`
	// QRColour is the colour of the code's dark modules: black (default),
	// green, yellow or red.
	QRColour string `yaml:"qr_colour"`
	// QRImage is an image file of a code to show instead of rendering QR.
	QRImage string `yaml:"qr_image"`
	// Face is a face photo; "gocv:NAME" names a file in the gocv module's
	// images folder. Empty for no face.
	Face string `yaml:"face"`
	// SkinC is the skin temperature behind the face; nil for no body heat
	// (a photo or a screen held up).
	SkinC *float64 `yaml:"skin_c"`
	// Walk is true when the person walks through an open lane.
	Walk bool `yaml:"walk"`
	// CanthusC is the inner eye corners' temperature; skin_c when unset.
	CanthusC *float64 `yaml:"canthus_c"`
	// ScreenC shows the face on a uniformly warm screen at this
	// temperature (a phone held up to the camera) instead of a body.
	ScreenC *float64 `yaml:"screen_c"`
}

// Enrolment is a person enrolled from a face photo.
type Enrolment struct {
	// Person is the id their credentials name as holder.
	Person string `yaml:"person"`
	// Name is the person's name, for listings.
	Name string `yaml:"name"`
	// Face is the photo, as Arrival.Face.
	Face string `yaml:"face"`
}

// Load reads and checks a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("scenario: %s: %w", path, err)
	}
	s.Dir = filepath.Dir(path)
	return s, nil
}

// Parse decodes a scenario, rejecting unknown keys, and checks every step.
func Parse(data []byte) (*Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(s.Steps) == 0 {
		return nil, errors.New("no steps")
	}
	var errs []error
	for i, st := range s.Steps {
		if err := st.check(); err != nil {
			errs = append(errs, fmt.Errorf("steps[%d] (%s): %w", i, st.Name, err))
		}
	}
	return &s, errors.Join(errs...)
}

func (st *Step) check() error {
	n := 0
	for _, set := range []bool{st.Arrive != nil, st.FireAlarm, st.FireReset, st.ExitButton, st.Thermal != nil, st.Enroll != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("needs exactly one of arrive, fire_alarm, fire_reset, exit_button, thermal, enroll")
	}
	if e := st.Enroll; e != nil {
		switch {
		case e.Person == "":
			return errors.New("enroll.person is required")
		case e.Face == "":
			return errors.New("enroll.face is required")
		case st.Expect != "" && st.Expect != "enrolled":
			return fmt.Errorf("expect: %q: an enroll step expects enrolled or nothing", st.Expect)
		}
		return nil
	}
	if st.Thermal != nil {
		if st.Expect != "" {
			return errors.New("expect: a thermal step has no decision")
		}
		return st.Thermal.check()
	}
	allowed := []string{"", "opened"}
	switch {
	case st.Arrive != nil:
		allowed = []string{"", "admitted", "denied"}
		a := st.Arrive
		if a.QR != "" && a.QRImage != "" {
			return errors.New("arrive: qr and qr_image are exclusive")
		}
		switch a.QRColour {
		case "", "black", "green", "yellow", "red":
		default:
			return fmt.Errorf("arrive.qr_colour: %q is not black, green, yellow or red", a.QRColour)
		}
		if a.SkinC != nil && (*a.SkinC < 0 || *a.SkinC > 45) {
			return fmt.Errorf("arrive.skin_c: %v is outside 0–45 °C", *a.SkinC)
		}
		if err := a.checkThermal(); err != nil {
			return err
		}
	case st.FireReset:
		allowed = []string{"", "reset"}
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == st.Expect
	}
	if !ok {
		return fmt.Errorf("expect: %q is not one of %s", st.Expect, strings.Join(allowed[1:], ", "))
	}
	return nil
}
