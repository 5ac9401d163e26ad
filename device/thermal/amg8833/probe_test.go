package amg8833

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestProbe(t *testing.T) {
	for _, tt := range []struct {
		name   string
		ops    []i2ctest.IO
		want   float64
		wantIs error
	}{
		{"ok", []i2ctest.IO{io([]byte{0x04}, []byte{0x00}), io([]byte{0x0E}, []byte{0x90, 0x01})}, 25, nil},
		{"interrupt flag is fine", []i2ctest.IO{io([]byte{0x04}, []byte{0x02}), io([]byte{0x0E}, []byte{0x90, 0x01})}, 25, nil},
		{"overflow", []i2ctest.IO{io([]byte{0x04}, []byte{0x04})}, 0, ErrProbe},
		{"thermistor implausible", []i2ctest.IO{io([]byte{0x04}, []byte{0x00}), io([]byte{0x0E}, []byte{0xFF, 0x07})}, 0, ErrProbe},
		{"nobody answers", nil, 0, errors.New("")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			got, err := Probe(bus, 0)
			switch {
			case tt.wantIs == nil && err != nil:
				t.Fatalf("Probe: %v", err)
			case tt.wantIs == nil && got != tt.want:
				t.Fatalf("Probe = %v °C, want %v", got, tt.want)
			case tt.wantIs == ErrProbe && !errors.Is(err, ErrProbe):
				t.Fatalf("Probe: %v, want ErrProbe", err)
			case tt.wantIs != nil && err == nil:
				t.Fatal("Probe succeeded")
			}
		})
	}
}
