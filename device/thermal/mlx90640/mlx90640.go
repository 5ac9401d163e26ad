package mlx90640

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"github.com/gateguard/gateguard/device/thermal"
)

// Mode is how the sensor splits a frame into its two subpages.
type Mode int

const (
	// Chess measures the pixels of a chessboard pattern in each subpage; it
	// is the factory default and the mode most sensors are calibrated in.
	Chess Mode = iota
	// Interleaved measures even rows, then odd rows (TV mode).
	Interleaved
)

func (m Mode) String() string {
	if m == Interleaved {
		return "interleaved"
	}
	return "chess"
}

// Opts configures a Dev.
type Opts struct {
	// Addr is the I²C address; 0x33 unless reprogrammed.
	Addr uint16
	// Refresh is the subpage rate: 0.5, 1, 2, 4, 8, 16, 32 or 64 Hz. A full
	// frame takes two subpages.
	Refresh physic.Frequency
	// Mode is chess (the default) or interleaved.
	Mode Mode
	// Emissivity of the measured object, in (0, 1]; human skin is 0.98.
	Emissivity float64
	// ReflectedC is the reflected (background) temperature in °C; NaN uses
	// the sensor's ambient temperature less 8 °C, Melexis' value for a
	// sensor in open air.
	ReflectedC float64
}

// DefaultOpts are the options New uses when given nil.
var DefaultOpts = Opts{Addr: 0x33, Refresh: 4 * physic.Hertz, Mode: Chess, Emissivity: 0.98, ReflectedC: math.NaN()}

// Errors that NextFrame returns, wrapped with details.
var (
	// ErrFrozen reports a subpage whose RAM is identical to the previous
	// read of the same subpage: the sensor stopped measuring.
	ErrFrozen = errors.New("mlx90640: frozen frame")
	// ErrTimeout reports that no new data arrived within three refresh
	// periods.
	ErrTimeout = errors.New("mlx90640: no new data")
	// ErrHalted reports a read after Halt.
	ErrHalted = errors.New("mlx90640: halted")
)

// sleep is the seam tests use to run the status polling without waiting.
var sleep = time.Sleep

// Dev is an MLX90640 on an I²C bus. Its methods must not be called
// concurrently except Halt.
type Dev struct {
	c          i2c.Dev
	p          *Params
	ctrl       uint16
	period     time.Duration
	emissivity float64
	trC        float64

	img    [Pixels]float64
	last   [2][RAMWords]uint16
	seen   [2]bool
	seq    uint64
	ramBuf [RAMWords * 2]byte
	aux    Aux

	mu     sync.Mutex // guards halted
	halted bool
}

var _ thermal.Sensor = (*Dev)(nil)

// Size is the frame size, Width×Height.
func (d *Dev) Size() image.Point { return image.Pt(Width, Height) }

// refreshCode returns the control register's refresh rate field (bits 7–9).
func refreshCode(f physic.Frequency) (uint16, error) {
	for code := range uint16(8) {
		if f == physic.Frequency(float64(physic.Hertz)*math.Ldexp(0.5, int(code))) {
			return code, nil
		}
	}
	return 0, fmt.Errorf("mlx90640: refresh rate %s is not one of 0.5, 1, 2, 4, 8, 16, 32 or 64 Hz", f)
}

// New reads the sensor's EEPROM, checks its calibration, and sets the refresh
// rate and mode in the control register. An EEPROM that cannot belong to a
// working sensor is an error wrapping ErrEEPROM.
func New(bus i2c.Bus, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.Addr == 0 {
		o.Addr = DefaultOpts.Addr
	}
	code, err := refreshCode(o.Refresh)
	if err != nil {
		return nil, err
	}
	if !(o.Emissivity > 0 && o.Emissivity <= 1) {
		return nil, fmt.Errorf("mlx90640: emissivity %v is outside (0, 1]", o.Emissivity)
	}
	d := &Dev{
		c:          i2c.Dev{Bus: bus, Addr: o.Addr},
		period:     time.Duration(float64(time.Second) / (float64(o.Refresh) / float64(physic.Hertz))),
		emissivity: o.Emissivity,
		trC:        o.ReflectedC,
	}
	ee := make([]uint16, EEPROMWords)
	if err := d.readWords(eepromAddr, ee, nil); err != nil {
		return nil, fmt.Errorf("mlx90640: read eeprom: %w", err)
	}
	if d.p, err = ExtractParams(ee); err != nil {
		return nil, err
	}
	var ctrl [1]uint16
	if err := d.readWords(controlAddr, ctrl[:], nil); err != nil {
		return nil, fmt.Errorf("mlx90640: read control register: %w", err)
	}
	// Keep the resolution and other bits; set subpage mode (bit 0), the
	// refresh rate (bits 7–9) and chess or interleaved (bit 12).
	d.ctrl = ctrl[0]&^(0x7<<7|0x1000) | 0x0001 | code<<7
	if o.Mode == Chess {
		d.ctrl |= 0x1000
	}
	if d.ctrl != ctrl[0] {
		if err := d.writeReg(controlAddr, d.ctrl); err != nil {
			return nil, fmt.Errorf("mlx90640: write control register: %w", err)
		}
	}
	return d, nil
}

// String names the sensor and its bus.
func (d *Dev) String() string { return fmt.Sprintf("MLX90640{%s, %#x}", d.c.Bus, d.c.Addr) }

// Params returns the calibration parameters read from the EEPROM.
func (d *Dev) Params() *Params { return d.p }

// Aux returns the supply voltage and ambient temperature of the latest
// subpage.
func (d *Dev) Aux() Aux { return d.aux }

// Defective returns the broken and outlier pixels (row*32+column) whose
// temperatures NextFrame interpolates from their neighbours.
func (d *Dev) Defective() []int { return d.p.Defective() }

// Halt stops the driver: later reads return ErrHalted. The sensor keeps
// measuring (it has no standby over I²C) but nothing is read or written.
func (d *Dev) Halt() error {
	d.mu.Lock()
	d.halted = true
	d.mu.Unlock()
	return nil
}

// NextFrame reads both subpages, so every pixel is fresh, and fills f with the
// 32×24 object temperatures in °C. Broken and outlier pixels are interpolated.
// Bus errors, a timeout, a frozen sensor or a bad measurement are errors and
// leave f untouched.
func (d *Dev) NextFrame(f *thermal.Frame) error {
	d.mu.Lock()
	halted := d.halted
	d.mu.Unlock()
	if halted {
		return ErrHalted
	}
	img := d.img
	var fresh [2]bool
	for tries := 0; !fresh[0] || !fresh[1]; tries++ {
		if tries == 4 {
			return fmt.Errorf("mlx90640: read 4 subpages without getting both: subpage 0 %v, subpage 1 %v", fresh[0], fresh[1])
		}
		s, err := d.readSubpage()
		if err != nil {
			return err
		}
		aux, err := d.p.Compute(s, d.emissivity, d.trC, img[:])
		if err != nil {
			return err
		}
		d.aux = aux
		fresh[s.Number] = true
	}
	d.p.Interpolate(img[:])
	d.img = img
	f.Resize(Width, Height)
	for i, v := range img {
		f.C[i] = float32(v)
	}
	d.seq++
	f.Seq, f.Time = d.seq, time.Now()
	return nil
}

// readSubpage waits for the new-data bit, reads the measurement RAM, clears the
// status register and returns the subpage.
func (d *Dev) readSubpage() (*Subpage, error) {
	var status [1]uint16
	poll := max(d.period/8, time.Millisecond)
	for n := 0; ; n++ {
		if err := d.readWords(statusAddr, status[:], nil); err != nil {
			return nil, fmt.Errorf("mlx90640: read status: %w", err)
		}
		if status[0]&0x0008 != 0 {
			break
		}
		if n == 24 {
			return nil, fmt.Errorf("%w after %v (status %#04x)", ErrTimeout, 3*d.period, status[0])
		}
		sleep(poll)
	}
	s := &Subpage{Control: d.ctrl, Number: int(status[0] & 1)}
	if err := d.readWords(ramAddr, s.RAM[:], d.ramBuf[:]); err != nil {
		return nil, fmt.Errorf("mlx90640: read frame: %w", err)
	}
	if err := d.writeReg(statusAddr, 0x0030); err != nil {
		return nil, fmt.Errorf("mlx90640: clear status: %w", err)
	}
	if d.seen[s.Number] && d.last[s.Number] == s.RAM {
		return nil, fmt.Errorf("%w: subpage %d RAM is identical to its previous read", ErrFrozen, s.Number)
	}
	d.last[s.Number], d.seen[s.Number] = s.RAM, true
	return s, nil
}

// readWords reads len(dst) big-endian words starting at addr, using buf (or a
// new buffer) for the bytes.
func (d *Dev) readWords(addr uint16, dst []uint16, buf []byte) error {
	if len(buf) < 2*len(dst) {
		buf = make([]byte, 2*len(dst))
	}
	buf = buf[:2*len(dst)]
	if err := d.c.Tx([]byte{byte(addr >> 8), byte(addr)}, buf); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = binary.BigEndian.Uint16(buf[2*i:])
	}
	return nil
}

// writeReg writes one register. It refuses the EEPROM's range: a write there
// can corrupt the sensor's calibration for good.
func (d *Dev) writeReg(addr, v uint16) error {
	if addr >= eepromAddr && addr <= eepromEnd {
		return fmt.Errorf("mlx90640: refusing to write EEPROM address %#04x", addr)
	}
	return d.c.Tx([]byte{byte(addr >> 8), byte(addr), byte(v >> 8), byte(v)}, nil)
}
