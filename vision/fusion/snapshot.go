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
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// Snapshots keeps colourised thermal snapshots on the gate: each is a PNG
// named by the SHA-256 of its content, so an alert can reference one by hash
// and anyone holding the file can check it is the one referenced.
type Snapshots struct {
	// Dir is the folder the snapshots are written to; it is created if
	// missing.
	Dir string
	// Scale is how many screen pixels each thermal pixel becomes; 8 when zero.
	Scale int
	// MinC and MaxC are the temperatures at the ends of the colour map;
	// 20–40 °C when both are zero, so that snapshots compare with each other.
	MinC, MaxC float64
	// MaxBytes bounds the folder: after each save the oldest snapshots are
	// removed until the rest fit (the newest is always kept). 0: no bound.
	MaxBytes int64
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

// Save renders tf, writes it atomically as Dir/<sha256>.png and returns the
// hash in hex.
func (s *Snapshots) Save(tf *thermal.Frame) (string, error) {
	if s.Dir == "" {
		return "", errors.New("fusion: snapshot folder not set")
	}
	data, name, err := s.PNG(tf)
	if err != nil {
		return "", err
	}
	return name, s.Keep(name, data)
}

// Keep writes data, a PNG whose SHA-256 is name, atomically as
// Dir/<name>.png, and prunes the folder to MaxBytes.
func (s *Snapshots) Keep(name string, data []byte) error {
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return fmt.Errorf("fusion: snapshot folder: %w", err)
	}
	path := filepath.Join(s.Dir, name+".png")
	if _, err := os.Stat(path); err == nil {
		return nil // the same picture is already kept
	}
	if err := writeAtomic(path, data); err != nil {
		return err
	}
	return s.prune(path) // on error the snapshot is kept; the folder is over its bound
}

// prune removes the oldest snapshots (by modification time) until the
// folder's PNG files fit in MaxBytes, never removing keep.
func (s *Snapshots) prune(keep string) error {
	if s.MaxBytes <= 0 {
		return nil
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("fusion: snapshot folder: %w", err)
	}
	type snap struct {
		path string
		size int64
		mod  time.Time
	}
	var snaps []snap
	var total int64
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".png" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		snaps = append(snaps, snap{filepath.Join(s.Dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].mod.Before(snaps[j].mod) })
	for _, sn := range snaps {
		if total <= s.MaxBytes {
			break
		}
		if sn.path == keep {
			continue
		}
		if err := os.Remove(sn.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("fusion: prune snapshots: %w", err)
		}
		total -= sn.size
	}
	return nil
}
