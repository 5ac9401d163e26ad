package fusion

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// CalibrationVersion is the version of the calibration file format.
const CalibrationVersion = 1

// Calibration is the registration of the face camera to the thermal camera,
// as `gateguard calibrate` writes it. Its ID goes into every reading, so an
// event always says which registration measured it; a new lens or mount
// needs a new calibration, and so a new ID.
type Calibration struct {
	// Version is CalibrationVersion.
	Version int `json:"version"`
	// ID names this calibration: cal-YYYYMMDD-<8 hex digits of the content hash>.
	ID string `json:"id"`
	// Created is when it was computed.
	Created time.Time `json:"created"`
	// VisibleSize and ThermalSize are the frame sizes it was computed for.
	VisibleSize [2]int `json:"visible_size"`
	ThermalSize [2]int `json:"thermal_size"`
	// Homography maps face-camera pixels to thermal pixels.
	Homography Homography `json:"homography"`
	// Pairs are the target positions it was computed from.
	Pairs []Pair `json:"pairs"`
	// RMSErrorPx is the reprojection error over Pairs, in thermal pixels.
	RMSErrorPx float64 `json:"rms_error_px"`
}

// ErrCalibration reports a calibration file that cannot be used.
var ErrCalibration = errors.New("fusion: bad calibration")

var calibrationID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$`)

// NewCalibration solves the homography from pairs and returns a calibration
// with a fresh ID.
func NewCalibration(pairs []Pair, visible, thermal image.Point, now time.Time) (*Calibration, error) {
	h, rms, err := SolveHomography(pairs)
	if err != nil {
		return nil, err
	}
	c := &Calibration{Version: CalibrationVersion, Created: now.UTC().Truncate(time.Second),
		VisibleSize: [2]int{visible.X, visible.Y}, ThermalSize: [2]int{thermal.X, thermal.Y},
		Homography: h, Pairs: append([]Pair(nil), pairs...), RMSErrorPx: rms}
	c.ID = "cal-" + c.Created.Format("20060102") + "-" + c.contentHash()[:8]
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

// contentHash hashes the sizes and the homography.
func (c *Calibration) contentHash() string {
	h := sha256.New()
	_ = binary.Write(h, binary.LittleEndian, [4]int64{int64(c.VisibleSize[0]), int64(c.VisibleSize[1]),
		int64(c.ThermalSize[0]), int64(c.ThermalSize[1])})
	_ = binary.Write(h, binary.LittleEndian, c.Homography)
	return hex.EncodeToString(h.Sum(nil))
}

// Visible returns the face-camera frame size the calibration is for.
func (c *Calibration) Visible() image.Point { return image.Pt(c.VisibleSize[0], c.VisibleSize[1]) }

// Thermal returns the thermal frame size the calibration is for.
func (c *Calibration) Thermal() image.Point { return image.Pt(c.ThermalSize[0], c.ThermalSize[1]) }

// Check returns an error wrapping ErrCalibration naming the first field that
// is wrong.
func (c *Calibration) Check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCalibration, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Version != CalibrationVersion:
		return bad("version %d, want %d", c.Version, CalibrationVersion)
	case !calibrationID.MatchString(c.ID):
		return bad("id %q must be 1–64 letters, digits, '-', '_', '.' or ':'", c.ID)
	case c.VisibleSize[0] < 16 || c.VisibleSize[1] < 16 || c.VisibleSize[0] > 8192 || c.VisibleSize[1] > 8192:
		return bad("visible_size %v is outside 16–8192 pixels", c.VisibleSize)
	case c.ThermalSize[0] < 4 || c.ThermalSize[1] < 4 || c.ThermalSize[0] > 4096 || c.ThermalSize[1] > 4096:
		return bad("thermal_size %v is outside 4–4096 pixels", c.ThermalSize)
	case !c.Homography.Valid():
		return bad("homography is not finite and invertible")
	case len(c.Pairs) < 4:
		return bad("%d pairs, want at least 4", len(c.Pairs))
	case math.IsNaN(c.RMSErrorPx) || c.RMSErrorPx < 0 || c.RMSErrorPx > 1e6:
		return bad("rms_error_px %v", c.RMSErrorPx)
	}
	// The visible frame's centre must land at a finite point in front of
	// the camera, within a frame's width of the thermal frame.
	ctr := Point{float64(c.VisibleSize[0]) / 2, float64(c.VisibleSize[1]) / 2}
	h := c.Homography
	if w := h[6]*ctr.X + h[7]*ctr.Y + h[8]; w <= 0 {
		return bad("homography maps the visible frame's centre behind the camera")
	}
	q, _ := h.Apply(ctr)
	tw, th := float64(c.ThermalSize[0]), float64(c.ThermalSize[1])
	if q.X < -tw || q.X > 2*tw || q.Y < -th || q.Y > 2*th {
		return bad("homography maps the visible frame's centre to (%.1f, %.1f), far outside the %dx%d thermal frame",
			q.X, q.Y, c.ThermalSize[0], c.ThermalSize[1])
	}
	return nil
}

// ParseCalibration decodes a calibration file strictly (unknown fields and
// trailing data are errors) and checks it.
func ParseCalibration(data []byte) (*Calibration, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Calibration
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCalibration, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the calibration object", ErrCalibration)
	}
	if err := c.Check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadCalibration reads and checks a calibration file.
func LoadCalibration(path string) (*Calibration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fusion: %w", err)
	}
	c, err := ParseCalibration(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// WriteCalibration writes c to path atomically: to a temporary file in the
// same folder, synced, then renamed over path, so a reader sees the old file
// or the new one, never half of one.
func WriteCalibration(path string, c *Calibration) error {
	if err := c.Check(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("fusion: encode calibration: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic writes data to path through a synced temporary file and a rename.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("fusion: write %s: %w", f.Name(), err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fusion: sync %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("fusion: close %s: %w", f.Name(), err)
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("fusion: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; not every filesystem supports it
		d.Close()
	}
	return nil
}
