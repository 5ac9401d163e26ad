package lepton

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/i2c"
)

// CCI registers (Lepton Software IDD §2): status, command, data length and
// the 16 data registers.
const (
	cciAddr    = 0x2A
	regStatus  = 0x0002
	regCommand = 0x0004
	regLength  = 0x0006
	regData0   = 0x0008

	statusBusy   = 0x0001
	statusBooted = 0x0006 // boot mode (bit 2) and boot status (bit 1)
)

// Command words: module, command and type (GET 0, SET 1). The RAD module
// needs the OEM bit 0x4000.
const (
	cmdAGCEnableSet       = 0x0101
	cmdRadEnableSet       = 0x4E11
	cmdTLinearEnableSet   = 0x4EC1
	cmdTLinearResolutionS = 0x4EC5
)

// ErrCCI reports a command the camera refused or did not finish.
var ErrCCI = errors.New("lepton: cci")

// cci talks to the camera's command and control interface.
type cci struct {
	d i2c.Dev
}

func (c *cci) read(reg uint16) (uint16, error) {
	var b [2]byte
	if err := c.d.Tx([]byte{byte(reg >> 8), byte(reg)}, b[:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b[:]), nil
}

func (c *cci) write(reg uint16, words ...uint16) error {
	b := make([]byte, 2+2*len(words))
	binary.BigEndian.PutUint16(b, reg)
	for i, w := range words {
		binary.BigEndian.PutUint16(b[2+2*i:], w)
	}
	return c.d.Tx(b, nil)
}

// waitReady polls the status register until the camera has booted and is not
// busy, and returns the last command's result code (status bits 15–8).
func (c *cci) waitReady() (int8, error) {
	for n := 0; ; n++ {
		st, err := c.read(regStatus)
		if err != nil {
			return 0, fmt.Errorf("read status: %w", err)
		}
		if st&statusBusy == 0 && st&statusBooted == statusBooted {
			return int8(st >> 8), nil
		}
		if n == 500 {
			return 0, fmt.Errorf("%w: still busy or booting after 1 s (status %#04x)", ErrCCI, st)
		}
		sleep(2 * time.Millisecond)
	}
}

// set runs a SET command with a 32-bit value, sent least significant word
// first: poll busy, write the data, the data length, then the command word.
func (c *cci) set(cmd uint16, v uint32) error {
	if _, err := c.waitReady(); err != nil {
		return err
	}
	if err := c.write(regData0, uint16(v), uint16(v>>16)); err != nil {
		return fmt.Errorf("write data: %w", err)
	}
	if err := c.write(regLength, 2); err != nil {
		return fmt.Errorf("write data length: %w", err)
	}
	if err := c.write(regCommand, cmd); err != nil {
		return fmt.Errorf("write command: %w", err)
	}
	code, err := c.waitReady()
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("%w: command %#04x failed with result %d", ErrCCI, cmd, code)
	}
	return nil
}

// enableRadiometry turns AGC off and radiometry and TLinear on with 0.01 K
// resolution, so that every pixel is in centikelvin.
func enableRadiometry(bus i2c.Bus) error {
	c := &cci{d: i2c.Dev{Bus: bus, Addr: cciAddr}}
	for _, s := range []struct {
		name string
		cmd  uint16
		v    uint32
	}{
		{"disable AGC", cmdAGCEnableSet, 0},
		{"enable radiometry", cmdRadEnableSet, 1},
		{"enable TLinear", cmdTLinearEnableSet, 1},
		{"set TLinear resolution 0.01 K", cmdTLinearResolutionS, 1},
	} {
		if err := c.set(s.cmd, s.v); err != nil {
			return fmt.Errorf("lepton: %s: %w", s.name, err)
		}
	}
	return nil
}
