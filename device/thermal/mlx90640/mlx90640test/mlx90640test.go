// Package mlx90640test is a simulated MLX90640 on an I²C bus, for tests of
// code that drives the sensor. It answers as the datasheet describes: 16-bit
// big-endian registers at address 0x33, the EEPROM at 0x2400–0x273F, the
// measurement RAM at 0x0400–0x073F, the status register 0x8000 (bit 3 new
// data, bit 0 last subpage; writing 0x0030 clears new data) and the control
// register 0x800D. Writes to the EEPROM are refused and counted.
package mlx90640test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/physic"
)

// Sensor is a simulated MLX90640. Set its fields before use; it is safe for
// concurrent use.
type Sensor struct {
	// EEPROM is the calibration data (832 words).
	EEPROM []uint16
	// Frames are the measurement RAM images (832 words each) the sensor
	// produces in turn, and Subpages the subpage of each; they repeat
	// when exhausted.
	Frames   [][]uint16
	Subpages []int
	// Control is the control register; 0x1901 after power-on.
	Control uint16
	// NotReady is how many status reads report no new data before each
	// frame.
	NotReady int
	// Err, when set, fails every transaction (a stuck bus).
	Err error

	mu           sync.Mutex // guards the fields below
	status       uint16
	next         int // index of the next frame to load
	ram          []uint16
	waits        int
	eepromWrites int
	writes       [][2]uint16
}

// ErrNack is returned for a transaction to another address.
var ErrNack = errors.New("mlx90640test: no acknowledge")

// EEPROMWrites returns the number of refused writes to the EEPROM.
func (s *Sensor) EEPROMWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eepromWrites
}

// Writes returns every register write as (address, value).
func (s *Sensor) Writes() [][2]uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][2]uint16(nil), s.writes...)
}

// String implements i2c.Bus.
func (s *Sensor) String() string { return "mlx90640test" }

// SetSpeed implements i2c.Bus.
func (s *Sensor) SetSpeed(physic.Frequency) error { return nil }

// Tx implements i2c.Bus.
func (s *Sensor) Tx(addr uint16, w, r []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if addr != 0x33 {
		return fmt.Errorf("%w at %#x", ErrNack, addr)
	}
	switch {
	case len(w) == 2 && len(r) > 0 && len(r)%2 == 0:
		return s.read(binary.BigEndian.Uint16(w), r)
	case len(w) == 4 && len(r) == 0:
		return s.write(binary.BigEndian.Uint16(w), binary.BigEndian.Uint16(w[2:]))
	}
	return fmt.Errorf("mlx90640test: unsupported transaction: write %d bytes, read %d", len(w), len(r))
}

func (s *Sensor) read(reg uint16, r []byte) error {
	n := uint16(len(r) / 2)
	var src []uint16
	switch {
	case reg >= 0x2400 && reg+n <= 0x2740:
		src = s.EEPROM[reg-0x2400:]
	case reg >= 0x0400 && reg+n <= 0x0740:
		if s.ram == nil {
			s.ram = make([]uint16, 832)
		}
		src = s.ram[reg-0x0400:]
	case reg == 0x8000 && n == 1:
		s.poll()
		src = []uint16{s.status}
	case reg == 0x800D && n == 1:
		src = []uint16{s.Control}
	default:
		return fmt.Errorf("mlx90640test: read of %d words at %#04x is outside the register map", n, reg)
	}
	for i := range n {
		binary.BigEndian.PutUint16(r[2*i:], src[i])
	}
	return nil
}

// poll loads the next frame once the previous one was cleared and NotReady
// polls have passed.
func (s *Sensor) poll() {
	if s.status&0x0008 != 0 || len(s.Frames) == 0 {
		return
	}
	if s.waits < s.NotReady {
		s.waits++
		return
	}
	s.waits = 0
	i := s.next % len(s.Frames)
	s.ram = append(s.ram[:0], s.Frames[i]...)
	sp := 0
	if i < len(s.Subpages) {
		sp = s.Subpages[i] & 1
	}
	s.status = s.status&^0x0009 | 0x0008 | uint16(sp)
	s.next++
}

func (s *Sensor) write(reg, v uint16) error {
	s.writes = append(s.writes, [2]uint16{reg, v})
	switch {
	case reg >= 0x2400 && reg <= 0x273F:
		s.eepromWrites++
		return fmt.Errorf("mlx90640test: write to EEPROM %#04x refused", reg)
	case reg == 0x800D:
		s.Control = v
	case reg == 0x8000:
		// Bit 3 is cleared by writing 0; bits 4 and 5 are settable.
		s.status = s.status&^0x0038 | v&0x0030 | v&s.status&0x0008
	default:
		return fmt.Errorf("mlx90640test: write to %#04x is outside the writable registers", reg)
	}
	return nil
}
