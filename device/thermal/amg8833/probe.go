package amg8833

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"
)

// ErrProbe reports a device that answers but not as a working AMG8833.
var ErrProbe = errors.New("amg8833: not a working AMG8833")

// Probe checks that the AMG8833 at addr (0 for 0x69) on bus answers as
// itself: it reads the status register, which must show no overflow, and
// the thermistor, which must read a room temperature the sensor can work in
// (−20–80 °C). It returns the thermistor's temperature in °C and writes
// nothing. It is for installation checks (gateguard selftest).
func Probe(bus i2c.Bus, addr uint16) (ambientC float64, err error) {
	if addr == 0 {
		addr = DefaultOpts.Addr
	}
	c := i2c.Dev{Bus: bus, Addr: addr}
	var st [1]byte
	if err := c.Tx([]byte{regSTAT}, st[:]); err != nil {
		return 0, fmt.Errorf("amg8833: read status at %#x: %w", addr, err)
	}
	if st[0]&statOverflow != 0 {
		return 0, fmt.Errorf("%w: status %#02x reports an overflow", ErrProbe, st[0])
	}
	var th [2]byte
	if err := c.Tx([]byte{regTTHL}, th[:]); err != nil {
		return 0, fmt.Errorf("amg8833: read thermistor at %#x: %w", addr, err)
	}
	t := Thermistor(th[0], th[1])
	if t < -20 || t > 80 {
		return t, fmt.Errorf("%w: thermistor reads %.2f °C", ErrProbe, t)
	}
	return t, nil
}
