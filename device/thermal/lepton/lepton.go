// Package lepton drives a FLIR Lepton 3.x (160×120) radiometric thermal camera:
// video over SPI (VoSPI) and commands over I²C (CCI, address 0x2A). New turns
// AGC off and radiometry with TLinear output on, so that each pixel is a
// temperature in centikelvin: °C = raw/100 − 273.15.
//
// VoSPI (SPI mode 3, up to 20 MHz): the camera streams 164-byte packets (ID,
// CRC16-CCITT, 80 pixels); filler packets have ID & 0x0F00 == 0x0F00; a
// frame is 4 segments of 60 packets, and packet 20 of each segment carries the
// segment number (0 marks a repeated frame to skip). On a CRC error or a
// packet out of order the driver loses sync: it leaves chip select deasserted
// and the bus idle for at least 185 ms, then starts again at the next packet
// 0. A segment is 9840 bytes, more than spidev's default 4096-byte buffer
// (module parameter spidev.bufsiz): the driver reads whole packets in
// transfers of at most Opts.MaxTransfer bytes (24 packets by default), so it
// works with the default; raising bufsiz to 65536 does no harm.
//
// Datasheet and interface descriptions:
// https://www.flir.com/products/lepton/ (Lepton 3.5 datasheet, "Lepton
// Engineering Datasheet", "Lepton Software Interface Description Document").
//
// Telemetry must stay off (the factory default). The Lepton 2.x (80×60, no
// segments) is not supported.
package lepton

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/gateguard/gateguard/device/thermal"
)

// Opts configures a Dev.
type Opts struct {
	// Speed is the SPI clock; the Lepton 3 needs at least about 10 MHz to
	// keep up and accepts up to 20 MHz.
	Speed physic.Frequency
	// MaxTransfer bounds one SPI transfer in bytes: spidev's buffer size
	// (4096 unless spidev.bufsiz is raised). It is rounded down to whole
	// packets.
	MaxTransfer int
	// MaxPackets bounds the packets read for one frame before NextFrame
	// gives up (about 1.5 s of stream at 20 MHz).
	MaxPackets int
	// MaxResyncs bounds the resynchronisations within one NextFrame.
	MaxResyncs int
}

// DefaultOpts are the options New uses when given nil.
var DefaultOpts = Opts{Speed: 20 * physic.MegaHertz, MaxTransfer: 4096, MaxPackets: 20000, MaxResyncs: 5}

// ResyncIdle is how long the bus stays idle, chip select deasserted, to
// resynchronise VoSPI (at least 185 ms, per the VoSPI description).
const ResyncIdle = 200 * time.Millisecond

// Errors NextFrame returns, wrapped with details.
var (
	// ErrNoFrame reports that no complete frame arrived within MaxPackets
	// packets or MaxResyncs resynchronisations.
	ErrNoFrame = errors.New("lepton: no complete frame")
	// ErrBadData reports a pixel that is not a temperature the camera can
	// measure (TLinear off, or corrupted data).
	ErrBadData = errors.New("lepton: bad measurement")
	// ErrHalted reports a read after Halt.
	ErrHalted = errors.New("lepton: halted")
)

// sleep is the seam for the CCI polling and the resync idle time.
var sleep = time.Sleep

// Dev is a Lepton 3.x. Its methods must not be called concurrently except
// Halt.
type Dev struct {
	c     spi.Conn
	name  string
	chunk int
	o     Opts
	buf   []byte
	a     assembler
	seq   uint64

	mu     sync.Mutex // guards halted
	halted bool
}

var _ thermal.Sensor = (*Dev)(nil)

// Size is the frame size, Width×Height.
func (d *Dev) Size() image.Point { return image.Pt(Width, Height) }

// New connects to the camera's VoSPI port and, when cci is not nil,
// configures radiometric TLinear output over CCI. With a nil cci the camera
// must already be in that mode (for example set by its host board).
func New(port spi.Port, cci i2c.Bus, opts *Opts) (*Dev, error) {
	o := DefaultOpts
	if opts != nil {
		o = *opts
	}
	if o.MaxTransfer < PacketSize {
		return nil, fmt.Errorf("lepton: MaxTransfer %d is smaller than a packet (%d bytes)", o.MaxTransfer, PacketSize)
	}
	if o.MaxPackets <= 0 || o.MaxResyncs < 0 {
		return nil, fmt.Errorf("lepton: MaxPackets %d and MaxResyncs %d must be positive", o.MaxPackets, o.MaxResyncs)
	}
	if cci != nil {
		if err := enableRadiometry(cci); err != nil {
			return nil, err
		}
	}
	c, err := port.Connect(o.Speed, spi.Mode3, 8)
	if err != nil {
		return nil, fmt.Errorf("lepton: connect vospi: %w", err)
	}
	chunk := o.MaxTransfer
	if l, ok := c.(conn.Limits); ok && l.MaxTxSize() > 0 {
		chunk = min(chunk, l.MaxTxSize())
	}
	chunk -= chunk % PacketSize
	if chunk == 0 {
		return nil, fmt.Errorf("lepton: the SPI port's transfers are smaller than a packet")
	}
	d := &Dev{c: c, name: fmt.Sprint(port), chunk: chunk, o: o, buf: make([]byte, chunk)}
	d.a.reset()
	return d, nil
}

// String names the camera and its SPI port.
func (d *Dev) String() string { return fmt.Sprintf("Lepton3{%s}", d.name) }

// Halt stops the driver: later reads return ErrHalted.
func (d *Dev) Halt() error {
	d.mu.Lock()
	d.halted = true
	d.mu.Unlock()
	return nil
}

// NextFrame reads VoSPI packets until a complete frame of 4 segments has
// arrived and fills f with 160×120 temperatures in °C. Errors leave f
// untouched.
func (d *Dev) NextFrame(f *thermal.Frame) error {
	d.mu.Lock()
	halted := d.halted
	d.mu.Unlock()
	if halted {
		return ErrHalted
	}
	resyncs, packets := 0, 0
	var lastErr error
	for packets < d.o.MaxPackets {
		if err := d.c.Tx(nil, d.buf); err != nil {
			return fmt.Errorf("lepton: read vospi: %w", err)
		}
		for off := 0; off < len(d.buf); off += PacketSize {
			packets++
			done, err := d.a.add(d.buf[off : off+PacketSize])
			if err != nil {
				// Sync is lost: the rest of this transfer is
				// discarded, the bus idles, and reading starts over.
				lastErr = err
				if resyncs == d.o.MaxResyncs {
					return fmt.Errorf("%w after %d resynchronisations: %w", ErrNoFrame, resyncs, err)
				}
				resyncs++
				d.a.reset()
				sleep(ResyncIdle)
				break
			}
			if done {
				return d.fill(f)
			}
		}
	}
	if lastErr != nil {
		return fmt.Errorf("%w in %d packets: %w", ErrNoFrame, packets, lastErr)
	}
	return fmt.Errorf("%w in %d packets", ErrNoFrame, packets)
}

// fill converts the assembled centikelvin frame into °C.
func (d *Dev) fill(f *thermal.Frame) error {
	// −40 °C and 300 °C in centikelvin.
	const lo, hi = 23315, 57315
	for i, v := range d.a.raw {
		if v < lo || v > hi {
			return fmt.Errorf("%w: pixel (%d,%d) reads %d (%.2f °C): is TLinear on?", ErrBadData,
				i%Width, i/Width, v, CentiKelvinToC(v))
		}
	}
	f.Resize(Width, Height)
	for i, v := range d.a.raw {
		f.C[i] = float32(CentiKelvinToC(v))
	}
	d.seq++
	f.Seq, f.Time = d.seq, time.Now()
	return nil
}

// CentiKelvinToC converts a TLinear pixel (0.01 K resolution) to °C.
func CentiKelvinToC(raw uint16) float64 { return float64(raw)/100 - 273.15 }
