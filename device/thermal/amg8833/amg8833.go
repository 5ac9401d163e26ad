// Package amg8833 drives the Panasonic Grid-EYE AMG8833, an 8×8 thermopile
// array, over I²C at address 0x69 (AD_SELECT high, most breakout boards) or
// 0x68. The pixels are 12-bit two's complement at 0.25 °C per LSB; the
// thermistor is 12-bit sign-magnitude at 0.0625 °C per LSB. The sensor
// measures 0–80 °C and updates at 10 or 1 frames per second; the bus runs at
// up to 400 kHz.
//
// Datasheet: https://industrial.panasonic.com/cdbs/www-data/pdf/ADI8000/ADI8000C66.pdf
package amg8833

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/gateguard/gateguard/device/thermal"
)

// Registers (datasheet "Register map").
const (
	regPCTL  = 0x00 // power control: 0x00 normal, 0x10 sleep
	regRST   = 0x01 // reset: 0x3F initial, 0x30 flags
	regFPSC  = 0x02 // frame rate: 0x00 10 fps, 0x01 1 fps
	regSTAT  = 0x04 // status: bit 1 INTF interrupt, bit 2 OVF_IRS pixel overflow, bit 3 OVF_THS thermistor overflow
	regSCLR  = 0x05 // status clear: bit 1 INTCLR, bit 2 OVS_CLR, bit 3 OVT_CLR
	regTTHL  = 0x0E // thermistor, 2 bytes little-endian
	regPixel = 0x80 // 64 pixels, 2 bytes each, little-endian

	statOverflow = 0x0C // OVF_IRS | OVF_THS (and OVS_CLR | OVT_CLR in SCLR)

	pctlNormal = 0x00
	pctlSleep  = 0x10
	rstInitial = 0x3F
)

// Width and Height are the sensor's size in pixels.
const Width, Height = 8, 8

// Errors NextFrame returns, wrapped with details.
var (
	// ErrBadData reports an overflowed output or a pixel outside what the
	// sensor can measure.
	ErrBadData = errors.New("amg8833: bad measurement")
	// ErrFrozen reports the same pixel data on three reads in a row.
	ErrFrozen = errors.New("amg8833: frozen frame")
	// ErrHalted reports a read after Halt.
	ErrHalted = errors.New("amg8833: halted")
)

// Opts configures a Dev.
type Opts struct {
	// Addr is 0x69 (AD_SELECT high) or 0x68.
	Addr uint16
	// SlowRate selects 1 frame per second instead of 10.
	SlowRate bool
}

// DefaultOpts are the options New uses when given nil.
var DefaultOpts = Opts{Addr: 0x69}

// Seams for tests: the time between frames.
var (
	sleep = time.Sleep
	now   = time.Now
)

// Dev is an AMG8833 on an I²C bus. Its methods must not be called
// concurrently except Halt.
type Dev struct {
	c      i2c.Dev
	period time.Duration

	next    time.Time
	last    [2 * Width * Height]byte
	repeats int
	seq     uint64
	ambient float64

	mu     sync.Mutex // guards halted
	halted bool
}

var _ thermal.Sensor = (*Dev)(nil)

// Size is the frame size, Width×Height.
func (d *Dev) Size() image.Point { return image.Pt(Width, Height) }

// New wakes the sensor, resets it and sets the frame rate.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Addr == 0 {
		o.Addr = DefaultOpts.Addr
	}
	if o.Addr != 0x68 && o.Addr != 0x69 {
		return nil, fmt.Errorf("amg8833: address %#x is not 0x68 or 0x69", o.Addr)
	}
	d := &Dev{c: i2c.Dev{Bus: bus, Addr: o.Addr}, period: 100 * time.Millisecond}
	fps := byte(0x00)
	if o.SlowRate {
		fps, d.period = 0x01, time.Second
	}
	for _, w := range [][2]byte{{regPCTL, pctlNormal}, {regRST, rstInitial}, {regFPSC, fps}} {
		if err := d.c.Tx(w[:], nil); err != nil {
			return nil, fmt.Errorf("amg8833: write register %#02x: %w", w[0], err)
		}
	}
	// After a reset the first frame is ready one period later.
	d.next = now().Add(d.period)
	return d, nil
}

// String names the sensor and its bus.
func (d *Dev) String() string { return fmt.Sprintf("AMG8833{%s, %#x}", d.c.Bus, d.c.Addr) }

// AmbientC returns the thermistor temperature of the latest frame in °C.
func (d *Dev) AmbientC() float64 { return d.ambient }

// Halt puts the sensor to sleep; later reads return ErrHalted.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.halted {
		return nil
	}
	d.halted = true
	if err := d.c.Tx([]byte{regPCTL, pctlSleep}, nil); err != nil {
		return fmt.Errorf("amg8833: sleep: %w", err)
	}
	return nil
}

// NextFrame waits for the sensor's next frame and fills f with 8×8
// temperatures in °C. Errors leave f untouched.
func (d *Dev) NextFrame(f *thermal.Frame) error {
	d.mu.Lock()
	halted := d.halted
	d.mu.Unlock()
	if halted {
		return ErrHalted
	}
	if wait := d.next.Sub(now()); wait > 0 {
		sleep(wait)
	}
	d.next = now().Add(d.period)
	var stat [1]byte
	if err := d.c.Tx([]byte{regSTAT}, stat[:]); err != nil {
		return fmt.Errorf("amg8833: read status: %w", err)
	}
	if stat[0]&statOverflow != 0 {
		if err := d.c.Tx([]byte{regSCLR, statOverflow}, nil); err != nil {
			return fmt.Errorf("amg8833: clear status: %w", err)
		}
		return fmt.Errorf("%w: output overflow (status %#02x)", ErrBadData, stat[0])
	}
	var th [2]byte
	if err := d.c.Tx([]byte{regTTHL}, th[:]); err != nil {
		return fmt.Errorf("amg8833: read thermistor: %w", err)
	}
	var px [2 * Width * Height]byte
	if err := d.c.Tx([]byte{regPixel}, px[:]); err != nil {
		return fmt.Errorf("amg8833: read pixels: %w", err)
	}
	if px == d.last {
		d.repeats++
		if d.repeats >= 2 {
			return fmt.Errorf("%w: pixel data unchanged for %d reads", ErrFrozen, d.repeats+1)
		}
	} else {
		d.repeats = 0
	}
	d.last = px
	var c [Width * Height]float32
	if err := Decode(px[:], c[:]); err != nil {
		return err
	}
	d.ambient = Thermistor(th[0], th[1])
	if d.ambient < -20 || d.ambient > 80 {
		return fmt.Errorf("%w: thermistor reads %v °C", ErrBadData, d.ambient)
	}
	f.Resize(Width, Height)
	copy(f.C, c[:])
	d.seq++
	f.Seq, f.Time = d.seq, now()
	return nil
}

// Thermistor converts the thermistor registers (low byte, high byte): 12-bit
// sign-magnitude, 0.0625 °C per LSB.
func Thermistor(lo, hi byte) float64 {
	raw := uint16(hi)<<8 | uint16(lo)
	mag := float64(raw&0x7FF) * 0.0625
	if raw&0x800 != 0 {
		return -mag
	}
	return mag
}

// Pixel converts one pixel's registers (low byte, high byte): 12-bit two's
// complement, 0.25 °C per LSB.
func Pixel(lo, hi byte) float64 {
	raw := int16(uint16(hi)<<12|uint16(lo)<<4) >> 4 // sign-extend bit 11
	return float64(raw) * 0.25
}

// Decode converts 128 bytes of pixel registers into 64 temperatures in °C. A
// pixel outside −20–120 °C, beyond what the sensor measures, or a register
// with bits above bit 11 set, is an error wrapping ErrBadData.
func Decode(b []byte, c []float32) error {
	if len(b) != 2*Width*Height || len(c) != Width*Height {
		return fmt.Errorf("%w: %d bytes for %d pixels", ErrBadData, len(b), len(c))
	}
	if bytes.Count(b, []byte{0xFF}) == len(b) {
		return fmt.Errorf("%w: every register reads 0xff (bus stuck high)", ErrBadData)
	}
	for i := range c {
		lo, hi := b[2*i], b[2*i+1]
		if hi&0xF0 != 0 {
			return fmt.Errorf("%w: pixel (%d,%d) register %#02x%02x has bits above bit 11", ErrBadData, i%Width, i/Width, hi, lo)
		}
		v := Pixel(lo, hi)
		if v < -20 || v > 120 {
			return fmt.Errorf("%w: pixel (%d,%d) reads %v °C", ErrBadData, i%Width, i/Width, v)
		}
		c[i] = float32(v)
	}
	return nil
}
