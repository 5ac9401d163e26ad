package fusion

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/gateguard/gateguard/device/thermal"
)

// SnapshotStore keeps a fever snapshot (PNG bytes) under its hash: the
// gate's outbox (gate/outbox), the one place snapshots are kept, within the
// outbox's budget.
type SnapshotStore interface {
	PutSnapshot(hash string, data []byte) error
}

// Snapshots renders colourised thermal snapshots for fever alerts: each is a
// PNG stored in Store under the SHA-256 of its content, so an alert can
// reference one by hash and anyone holding the picture can check it is the
// one referenced.
type Snapshots struct {
	// Store keeps the PNGs.
	Store SnapshotStore
	// Scale is how many screen pixels each thermal pixel becomes; 8 when zero.
	Scale int
	// MinC and MaxC are the temperatures at the ends of the colour map;
	// 20–40 °C when both are zero, so that snapshots compare with each other.
	MinC, MaxC float64
}

// inferno is a perceptually uniform dark-to-bright colour map (the
// matplotlib "inferno" map sampled at five points).
var inferno = [...]color.RGBA{
	{0, 0, 4, 255}, {87, 16, 110, 255}, {188, 55, 84, 255}, {249, 142, 9, 255}, {252, 255, 164, 255},
}

// Render colourises tf into an image.
func (s *Snapshots) Render(tf *thermal.Frame) (*image.RGBA, error) {
	if err := tf.Check(); err != nil {
		return nil, fmt.Errorf("fusion: snapshot: %w", err)
	}
	sc := s.Scale
	if sc <= 0 {
		sc = 8
	}
	lo, hi := s.MinC, s.MaxC
	if lo == 0 && hi == 0 {
		lo, hi = 20, 40
	}
	if hi <= lo {
		return nil, fmt.Errorf("fusion: snapshot range %v–%v °C", lo, hi)
	}
	img := image.NewRGBA(image.Rect(0, 0, tf.W*sc, tf.H*sc))
	for y := range tf.H {
		for x := range tf.W {
			c := colourAt((float64(tf.C[y*tf.W+x]) - lo) / (hi - lo))
			for yy := y * sc; yy < (y+1)*sc; yy++ {
				for xx := x * sc; xx < (x+1)*sc; xx++ {
					img.SetRGBA(xx, yy, c)
				}
			}
		}
	}
	return img, nil
}

// colourAt interpolates the colour map at t in 0–1 (clamped).
func colourAt(t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t)) * float64(len(inferno)-1)
	i := min(int(t), len(inferno)-2)
	f := t - float64(i)
	a, b := inferno[i], inferno[i+1]
	mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + f*(float64(q)-float64(p)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// PNG renders tf as a PNG and returns it with its SHA-256 in hex.
func (s *Snapshots) PNG(tf *thermal.Frame) (data []byte, hash string, err error) {
	img, err := s.Render(tf)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, "", fmt.Errorf("fusion: snapshot: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

// Save renders tf, stores it as a PNG under its SHA-256 and returns the
// hash in hex.
func (s *Snapshots) Save(tf *thermal.Frame) (string, error) {
	if s.Store == nil {
		return "", errors.New("fusion: snapshot store not set")
	}
	data, name, err := s.PNG(tf)
	if err != nil {
		return "", err
	}
	if err := s.Store.PutSnapshot(name, data); err != nil {
		return "", fmt.Errorf("fusion: snapshot %s: %w", name, err)
	}
	return name, nil
}
