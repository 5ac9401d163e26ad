package main

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // qr_image files
	_ "image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/skip2/go-qrcode"
	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/device/sim"
	"github.com/gateguard/gateguard/gate/scenario"
	"github.com/gateguard/gateguard/vision/fusion"
)

// world is the simulated hardware of a daemon, driven by a scenario.
type world struct {
	cfg     *configs.Config
	hw      *simHardware
	gocvDir string
	passage *simInput
	exit    *simInput
	fire    *simInput
	fireKey *simInput
	// truth is where the simulated thermal camera really sees what the
	// simulated face camera sees: by default they share one field of view.
	truth fusion.Homography
	// faces are the daemon's enrolled templates, for enroll steps.
	faces *faceParts
}

// simInput is a simulated contact wired as its config says.
type simInput struct {
	pin *sim.Pin
	cfg *configs.Input
}

// set closes (true) or opens the contact, or for a normally-closed loop
// raises (true) or clears the alarm.
func (s *simInput) set(active bool) {
	if s == nil {
		return
	}
	closed := active != s.cfg.NormallyClosed
	s.pin.Set(gpio.Level(closed != s.cfg.ActiveLow))
}

// newWorld drives hw, the simulated hardware of a gate wired from cfg.
func newWorld(cfg *configs.Config, hw *simHardware) (*world, error) {
	if hw.camera == nil || hw.thermal == nil {
		return nil, errors.New("simulate: camera and thermal must be simulated")
	}
	w := &world{cfg: cfg, hw: hw, gocvDir: gocvImages(), truth: fusion.Scale(hw.camera.Size(), hw.thermal.Size())}
	g := cfg.GPIO
	in := func(c *configs.Input) *simInput {
		if c == nil {
			return nil
		}
		return &simInput{pin: hw.pins[c.Pin], cfg: c}
	}
	w.passage, w.exit, w.fire, w.fireKey = in(g.Passage), in(g.ExitButton), in(g.FireAlarm), in(g.FireReset)
	return w, nil
}

// gocvImages finds the gocv module's images folder.
func gocvImages() string {
	if dir := os.Getenv("GATEGUARD_GOCV_IMAGES"); dir != "" {
		return dir
	}
	mod := os.Getenv("GOMODCACHE")
	if mod == "" {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			home, _ := os.UserHomeDir()
			gopath = filepath.Join(home, "go")
		}
		mod = filepath.Join(gopath, "pkg", "mod")
	}
	return filepath.Join(mod, "gocv.io", "x", "gocv@v0.31.0", "images")
}

var qrColours = map[string]color.Color{
	"": color.Black, "black": color.Black,
	"green":  color.RGBA{0, 150, 60, 255},
	"yellow": color.RGBA{230, 180, 0, 255},
	"red":    color.RGBA{210, 30, 30, 255},
}

func (w *world) Arrive(a *scenario.Arrival) error {
	var code image.Image
	switch {
	case a.QR != "":
		q, err := qrcode.New(a.QR, qrcode.Medium)
		if err != nil {
			return fmt.Errorf("render qr: %w", err)
		}
		q.ForegroundColor = qrColours[a.QRColour]
		code = q.Image(256)
	case a.QRImage != "":
		f, err := os.Open(a.QRImage)
		if err != nil {
			return err
		}
		defer f.Close()
		code, _, err = image.Decode(f)
		if err != nil {
			return fmt.Errorf("qr image %s: %w", a.QRImage, err)
		}
	}
	facePath := a.Face
	if name, ok := strings.CutPrefix(facePath, "gocv:"); ok {
		facePath = filepath.Join(w.gocvDir, name)
	}
	rect, err := w.hw.camera.Show(facePath, code)
	if err != nil {
		return err
	}
	w.showHeat(a, rect)
	return nil
}

func (w *world) Leave() {
	w.hw.camera.Clear()
	w.hw.thermal.SetFace(image.Rectangle{}, 0, 0)
	w.hw.thermal.SetScreen(image.Rectangle{}, 0)
}

func (w *world) SetPassage(active bool)   { w.passage.set(active) }
func (w *world) SetExit(pressed bool)     { w.exit.set(pressed) }
func (w *world) SetFireAlarm(active bool) { w.fire.set(active) }
func (w *world) SetFireReset(on bool)     { w.fireKey.set(on) }
