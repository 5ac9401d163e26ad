package amg8833

import (
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"

	"github.com/gateguard/gateguard/device/thermal"
)

func TestThermistor(t *testing.T) {
	for _, tt := range []struct {
		lo, hi byte
		want   float64
	}{
		{0x90, 0x01, 25.0},     // 0x190 = 400 × 0.0625
		{0xFF, 0x07, 127.9375}, // largest positive
		{0x00, 0x00, 0},
		{0x0A, 0x08, -0.625}, // sign bit, magnitude 10
		{0x90, 0x09, -25.0},
	} {
		if got := Thermistor(tt.lo, tt.hi); got != tt.want {
			t.Errorf("Thermistor(%#02x, %#02x) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestPixel(t *testing.T) {
	for _, tt := range []struct {
		lo, hi byte
		want   float64
	}{
		{0x94, 0x00, 37.0}, // 148 × 0.25
		{0xF4, 0x01, 125.0},
		{0x00, 0x00, 0},
		{0xFF, 0x0F, -0.25}, // two's complement 0xFFF
		{0x9C, 0x0F, -25.0}, // 0xF9C = −100
		{0x00, 0x08, -512},
	} {
		if got := Pixel(tt.lo, tt.hi); got != tt.want {
			t.Errorf("Pixel(%#02x, %#02x) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

// pixels returns 128 register bytes for 64 pixels at c °C plus the index/100.
func pixels(c float64) []byte {
	b := make([]byte, 128)
	for i := range 64 {
		raw := uint16(int16((c+float64(i%4)*0.25)*4)) & 0xFFF
		b[2*i], b[2*i+1] = byte(raw), byte(raw>>8)
	}
	return b
}

func fakeTime(t *testing.T) *[]time.Duration {
	var waits []time.Duration
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	oldSleep, oldNow := sleep, now
	sleep = func(d time.Duration) { waits = append(waits, d); clock = clock.Add(d) }
	now = func() time.Time { return clock }
	t.Cleanup(func() { sleep, now = oldSleep, oldNow })
	return &waits
}

func io(w []byte, r []byte) i2ctest.IO { return i2ctest.IO{Addr: 0x69, W: w, R: r} }

var initOps = []i2ctest.IO{io([]byte{0x00, 0x00}, nil), io([]byte{0x01, 0x3F}, nil), io([]byte{0x02, 0x00}, nil)}

func frameOps(status byte, px []byte) []i2ctest.IO {
	return []i2ctest.IO{io([]byte{0x04}, []byte{status}), io([]byte{0x0E}, []byte{0x90, 0x01}), io([]byte{0x80}, px)}
}

func TestPlayback(t *testing.T) {
	waits := fakeTime(t)
	ops := append([]i2ctest.IO{}, initOps...)
	ops = append(ops, frameOps(0, pixels(36.5))...)
	ops = append(ops, frameOps(0, pixels(36.75))...)
	ops = append(ops, io([]byte{0x00, 0x10}, nil)) // Halt: sleep mode
	bus := &i2ctest.Playback{Ops: ops}
	d, err := New(bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	for i, want := range []float32{36.5, 36.75} {
		if err := d.NextFrame(&f); err != nil {
			t.Fatal(err)
		}
		if f.W != 8 || f.H != 8 || f.C[0] != want || f.C[3] != want+0.75 || f.Seq != uint64(i+1) {
			t.Errorf("frame %d: %dx%d C[0]=%v C[3]=%v seq %d", i, f.W, f.H, f.C[0], f.C[3], f.Seq)
		}
		if err := f.Check(); err != nil {
			t.Error(err)
		}
	}
	if d.AmbientC() != 25 {
		t.Errorf("ambient %v", d.AmbientC())
	}
	if len(*waits) != 2 || (*waits)[0] != 100*time.Millisecond {
		t.Errorf("waits %v, want two of 100ms", *waits)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.NextFrame(&f); !errors.Is(err, ErrHalted) {
		t.Errorf("after Halt: %v", err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
}

func TestBadInput(t *testing.T) {
	fakeTime(t)
	stuck := make([]byte, 128)
	for i := range stuck {
		stuck[i] = 0xFF
	}
	hot := pixels(30)
	hot[10], hot[11] = 0xF4, 0x01 // pixel 5 = 125 °C
	high := pixels(30)
	high[1] = 0x10
	frozen := append(append(append([]i2ctest.IO{}, frameOps(0, pixels(30))...), frameOps(0, pixels(30))...), frameOps(0, pixels(30))...)
	tests := []struct {
		name string
		ops  []i2ctest.IO
		err  error
		msg  string
	}{
		{"bus error", nil, nil, "read status"},
		// STAT bit 2 OVF_IRS and bit 3 OVF_THS, cleared through SCLR's OVS_CLR and OVT_CLR.
		{"pixel overflow", []i2ctest.IO{io([]byte{0x04}, []byte{0x04}), io([]byte{0x05, 0x0C}, nil)}, ErrBadData, "overflow"},
		{"thermistor overflow", []i2ctest.IO{io([]byte{0x04}, []byte{0x08}), io([]byte{0x05, 0x0C}, nil)}, ErrBadData, "overflow"},
		{"stuck bus", frameOps(0, stuck), ErrBadData, "0xff"},
		{"out of range", frameOps(0, hot), ErrBadData, "pixel (5,0) reads 125"},
		{"bits above 11", frameOps(0, high), ErrBadData, "above bit 11"},
		{"frozen", frozen, ErrFrozen, "unchanged for 3 reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: append(append([]i2ctest.IO{}, initOps...), tt.ops...), DontPanic: true}
			d, err := New(bus, nil)
			if err != nil {
				t.Fatal(err)
			}
			var f thermal.Frame
			for err == nil {
				err = d.NextFrame(&f)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("NextFrame = %v, want %v", err, tt.err)
			}
			if !strings.HasPrefix(err.Error(), "amg8833: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q should mention %q", err, tt.msg)
			}
		})
	}
	if _, err := New(&i2ctest.Playback{}, &Opts{Addr: 0x33}); err == nil {
		t.Error("address 0x33 accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(pixels(36))
	f.Add(make([]byte, 128))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := make([]float32, 64)
		if err := Decode(b, c); err != nil {
			return
		}
		for i, v := range c {
			if v < -20 || v > 120 || v != float32(Pixel(b[2*i], b[2*i+1])) {
				t.Fatalf("pixel %d = %v", i, v)
			}
		}
	})
}

// TestInterruptFlagIsNotOverflow: STAT bit 1 is INTF (an interrupt
// outbreak), not an overflow; the frame is good.
func TestInterruptFlagIsNotOverflow(t *testing.T) {
	fakeTime(t)
	ops := append(append([]i2ctest.IO{}, initOps...), frameOps(0x02, pixels(30))...)
	d, err := New(&i2ctest.Playback{Ops: ops, DontPanic: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	if err := d.NextFrame(&f); err != nil {
		t.Fatalf("NextFrame with INTF set: %v", err)
	}
	if f.W != Width || f.C[0] != 30 {
		t.Errorf("frame %dx%d, pixel 0 %v °C; want 8x8, 30", f.W, f.H, f.C[0])
	}
}
