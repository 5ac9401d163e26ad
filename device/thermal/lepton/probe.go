package lepton

import (
	"fmt"

	"periph.io/x/conn/v3/i2c"
)

// cmdSysPing is the SYS module's RUN ping command (Lepton Software IDD,
// "SYS Ping Camera"): it does nothing but answer with a result code.
const cmdSysPing = 0x0202

// Ping checks that the camera's command interface (CCI at 0x2A on bus)
// answers as a Lepton: it waits until the camera has booted and is not
// busy, runs the SYS ping command and checks its result code. It changes no
// setting. It is for installation checks (gateguard selftest); a VoSPI frame
// is read with New and NextFrame.
func Ping(bus i2c.Bus) error {
	c := &cci{d: i2c.Dev{Bus: bus, Addr: cciAddr}}
	if _, err := c.waitReady(); err != nil {
		return fmt.Errorf("lepton: ping: %w", err)
	}
	if err := c.write(regLength, 0); err != nil {
		return fmt.Errorf("lepton: ping: write data length: %w", err)
	}
	if err := c.write(regCommand, cmdSysPing); err != nil {
		return fmt.Errorf("lepton: ping: write command: %w", err)
	}
	code, err := c.waitReady()
	if err != nil {
		return fmt.Errorf("lepton: ping: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("lepton: ping: %w: result %d", ErrCCI, code)
	}
	return nil
}
