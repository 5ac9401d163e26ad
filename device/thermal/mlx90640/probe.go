package mlx90640

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"
)

// Probe checks that the MLX90640 at addr (0 for 0x33) on bus answers as
// itself: it reads the EEPROM and checks that its calibration can belong to
// a working sensor (the same checks as New), without writing anything. It
// returns the calibration; an implausible EEPROM is an error wrapping
// ErrEEPROM. It is for installation checks (gateguard selftest); New does the
// same before a sensor is used.
func Probe(bus i2c.Bus, addr uint16) (*Params, error) {
	if addr == 0 {
		addr = DefaultOpts.Addr
	}
	d := &Dev{c: i2c.Dev{Bus: bus, Addr: addr}}
	ee := make([]uint16, EEPROMWords)
	if err := d.readWords(eepromAddr, ee, nil); err != nil {
		return nil, fmt.Errorf("mlx90640: read eeprom at %#x: %w", addr, err)
	}
	p, err := ExtractParams(ee)
	if err != nil {
		return nil, err
	}
	return p, nil
}
