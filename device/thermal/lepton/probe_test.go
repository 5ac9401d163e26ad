package lepton

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestPing(t *testing.T) {
	recordSleeps(t)
	ping := func(result byte) []i2ctest.IO {
		return []i2ctest.IO{
			cciOp([]byte{0x00, 0x02}, []byte{0x00, 0x06}),
			cciOp([]byte{0x00, 0x06, 0x00, 0x00}, nil),
			cciOp([]byte{0x00, 0x04, 0x02, 0x02}, nil),
			cciOp([]byte{0x00, 0x02}, []byte{result, 0x06}),
		}
	}
	for _, tt := range []struct {
		name    string
		ops     []i2ctest.IO
		wantErr bool
	}{
		{"answers", ping(0), false},
		{"error result", ping(0xFF), true}, // LEP_ERROR (-1)
		{"nobody answers", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			err := Ping(bus)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Ping: %v, want error %v", err, tt.wantErr)
			}
			if tt.name == "error result" && !errors.Is(err, ErrCCI) {
				t.Errorf("Ping: %v, want ErrCCI", err)
			}
		})
	}
}
