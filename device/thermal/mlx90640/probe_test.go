package mlx90640_test

import (
	"errors"
	"testing"

	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/device/thermal/mlx90640/mlx90640test"
)

func TestProbe(t *testing.T) {
	good := hexWords(t, "eeprom.hex")
	blank := make([]uint16, mlx90640.EEPROMWords)
	for i := range blank {
		blank[i] = 0xFFFF
	}
	stuck := errors.New("bus stuck")
	for _, tt := range []struct {
		name   string
		s      *mlx90640test.Sensor
		addr   uint16
		wantIs error
	}{
		{"good", &mlx90640test.Sensor{EEPROM: good, Control: 0x1901}, 0, nil},
		{"blank eeprom", &mlx90640test.Sensor{EEPROM: blank, Control: 0x1901}, 0, mlx90640.ErrEEPROM},
		{"stuck bus", &mlx90640test.Sensor{EEPROM: good, Err: stuck}, 0, stuck},
		{"other address", &mlx90640test.Sensor{EEPROM: good}, 0x34, mlx90640test.ErrNack},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := mlx90640.Probe(tt.s, tt.addr)
			if tt.wantIs == nil {
				if err != nil || p == nil {
					t.Fatalf("Probe: %v", err)
				}
			} else if !errors.Is(err, tt.wantIs) {
				t.Fatalf("Probe: %v, want %v", err, tt.wantIs)
			}
			if n := tt.s.EEPROMWrites(); n != 0 || len(tt.s.Writes()) != 0 {
				t.Errorf("Probe wrote to the sensor (%d EEPROM writes, %v)", n, tt.s.Writes())
			}
		})
	}
}
