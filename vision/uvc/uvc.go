// Package uvc reads radiometric USB (UVC) thermal cameras that stream Y16, such
// as the GroupGets PureThermal boards carrying a FLIR Lepton 3.5, through
// OpenCV's VideoCapture (loaded on first use, see vision/videoio). Each 16-bit pixel is a temperature in centikelvin
// (the camera's radiometric TLinear output): °C = raw/100 − 273.15.
//
// A device is opened with the V4L2 backend, then CAP_PROP_FOURCC is set to
// "Y16 " and CAP_PROP_CONVERT_RGB to 0, in that order, so that OpenCV hands
// over the raw 16-bit values instead of an 8-bit preview. A printf pattern of
// 16-bit PNG files (frames/%04d.png) is read with the image-sequence backend,
// which returns the exact 16-bit values: recordings replay bit for bit.
//
// PureThermal: https://groupgets.com/products/purethermal-2-flir-lepton-smart-i-o-module
// (UVC Y16 at 160×120, ~9 frames per second).
package uvc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/vision/videoio"
)

// Opts configures a Dev.
type Opts struct {
	// Width and Height are the frame size to request from a device and to
	// expect from a raw (unconverted) buffer; 0 keeps the camera's own.
	Width, Height int
}

// MaxSide is the largest frame side NextFrame accepts (radiometric cameras
// are at most 640×512).
const MaxSide = 2048

// DefaultOpts are the options Open uses when given nil: the Lepton 3.5's
// 160×120.
var DefaultOpts = Opts{Width: 160, Height: 120}

// Errors NextFrame returns, wrapped with details.
var (
	// ErrNoFrame reports a read that returned nothing: the device went away
	// or an image sequence ended.
	ErrNoFrame = errors.New("uvc: no frame")
	// ErrBadData reports a frame that is not radiometric 16-bit data or a
	// pixel outside −40–300 °C.
	ErrBadData = errors.New("uvc: bad frame")
	// ErrFrozen reports the same frame three times in a row.
	ErrFrozen = errors.New("uvc: frozen frame")
	// ErrHalted reports a read after Halt.
	ErrHalted = errors.New("uvc: halted")
)

// Dev is a Y16 camera or a 16-bit image sequence. Its methods must not be
// called concurrently except Halt.
type Dev struct {
	name string
	o    Opts

	mu      sync.Mutex // guards vc and halted
	vc      *videoio.Capture
	halted  bool
	mat     gocv.Mat
	last    []byte
	repeats int
	seq     uint64
}

var _ thermal.Sensor = (*Dev)(nil)

// Size is the frame size the capture reports, or the zero Point when it
// reports none (an image sequence before its first frame) or is halted.
func (d *Dev) Size() image.Point {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return image.Point{}
	}
	w, h := int(d.vc.Get(gocv.VideoCaptureFrameWidth)), int(d.vc.Get(gocv.VideoCaptureFrameHeight))
	if w <= 0 || h <= 0 {
		return image.Point{}
	}
	return image.Pt(w, h)
}

// Open opens a device (/dev/videoN or an index) for Y16 capture, or an image
// sequence (a path with a printf pattern such as frames/%04d.png).
func Open(source string, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	var (
		vc  *videoio.Capture
		err error
	)
	if idx, ok := deviceIndex(source); ok {
		vc, err = videoio.OpenDevice(idx, gocv.VideoCaptureV4L2)
		if err == nil {
			// Y16 first, then no conversion: in the other order OpenCV
			// would keep converting to 8-bit BGR.
			vc.Set(gocv.VideoCaptureFOURCC, videoio.FourCC("Y16 "))
			vc.Set(gocv.VideoCaptureConvertRGB, 0)
			if o.Width > 0 && o.Height > 0 {
				vc.Set(gocv.VideoCaptureFrameWidth, float64(o.Width))
				vc.Set(gocv.VideoCaptureFrameHeight, float64(o.Height))
			}
		}
	} else {
		vc, err = videoio.OpenFile(source, gocv.VideoCaptureImages)
	}
	if err != nil {
		return nil, fmt.Errorf("uvc: open %s: %w", source, err)
	}
	if !vc.IsOpened() {
		vc.Close()
		return nil, fmt.Errorf("uvc: open %s: not opened", source)
	}
	return &Dev{name: source, o: o, vc: vc, mat: gocv.NewMat()}, nil
}

func deviceIndex(s string) (int, bool) {
	if n, ok := strings.CutPrefix(s, "/dev/video"); ok {
		s = n
	}
	idx, err := strconv.Atoi(s)
	return idx, err == nil
}

// String names the source.
func (d *Dev) String() string { return fmt.Sprintf("UVC{%s}", d.name) }

// Halt closes the capture; later reads return ErrHalted.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	d.mat.Close()
	return d.vc.Close()
}

// NextFrame reads the next frame and fills f with temperatures in °C. Errors
// leave f untouched.
func (d *Dev) NextFrame(f *thermal.Frame) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return ErrHalted
	}
	if !d.vc.Read(&d.mat) || d.mat.Empty() {
		return fmt.Errorf("%w from %s", ErrNoFrame, d.name)
	}
	w, h, raw, err := d.pixels()
	if err != nil {
		return err
	}
	if w > MaxSide || h > MaxSide {
		// No radiometric camera is this large: a corrupt or foreign
		// recording, whose copies below would take gigabytes.
		return fmt.Errorf("%w: %dx%d frame exceeds %d pixels a side", ErrBadData, w, h, MaxSide)
	}
	if d.last != nil && string(raw) == string(d.last) {
		d.repeats++
		if d.repeats >= 2 {
			return fmt.Errorf("%w: %d identical frames", ErrFrozen, d.repeats+1)
		}
	} else {
		d.repeats = 0
	}
	d.last = append(d.last[:0], raw...)
	c := make([]float32, w*h)
	if err := DecodeY16(raw, w, h, c); err != nil {
		return err
	}
	f.Resize(w, h)
	copy(f.C, c)
	d.seq++
	f.Seq, f.Time = d.seq, time.Now()
	return nil
}

// pixels returns the frame's size and its 16-bit pixels as little-endian
// bytes: a CV_16UC1 image, or the raw Y16 buffer (1×2wh bytes) some V4L2
// builds return without conversion.
func (d *Dev) pixels() (w, h int, raw []byte, err error) {
	m := d.mat
	switch {
	case m.Type() == gocv.MatTypeCV16UC1:
		if !m.IsContinuous() {
			m = m.Clone()
			defer m.Close()
		}
		b, err := m.DataPtrUint16()
		if err != nil {
			return 0, 0, nil, fmt.Errorf("%w: %w", ErrBadData, err)
		}
		raw = make([]byte, 2*len(b))
		for i, v := range b {
			binary.LittleEndian.PutUint16(raw[2*i:], v)
		}
		return m.Cols(), m.Rows(), raw, nil
	case m.Type() == gocv.MatTypeCV8UC1 && m.Rows() == 1 && d.o.Width > 0 && m.Cols() == 2*d.o.Width*d.o.Height:
		return d.o.Width, d.o.Height, append([]byte(nil), m.ToBytes()...), nil
	}
	return 0, 0, nil, fmt.Errorf("%w: %dx%d image of type %v, want 16-bit single-channel (Y16)",
		ErrBadData, m.Cols(), m.Rows(), m.Type())
}

// DecodeY16 converts a w×h frame of little-endian 16-bit centikelvin pixels
// into °C. A pixel outside −40–300 °C (a camera not in radiometric mode, or
// corrupted data) is an error wrapping ErrBadData.
func DecodeY16(raw []byte, w, h int, c []float32) error {
	if w <= 0 || h <= 0 || len(raw) != 2*w*h || len(c) != w*h {
		return fmt.Errorf("%w: %d bytes for a %dx%d frame", ErrBadData, len(raw), w, h)
	}
	// −40 °C and 300 °C in centikelvin.
	const lo, hi = 23315, 57315
	for i := range c {
		v := binary.LittleEndian.Uint16(raw[2*i:])
		if v < lo || v > hi {
			return fmt.Errorf("%w: pixel (%d,%d) reads %d (%.2f °C): is the camera radiometric (TLinear)?",
				ErrBadData, i%w, i/w, v, CentiKelvinToC(v))
		}
		c[i] = float32(CentiKelvinToC(v))
	}
	return nil
}

// CentiKelvinToC converts a radiometric pixel (0.01 K) to °C.
func CentiKelvinToC(raw uint16) float64 { return float64(raw)/100 - 273.15 }
