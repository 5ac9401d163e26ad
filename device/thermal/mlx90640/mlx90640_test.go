package mlx90640

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"

	"github.com/gateguard/gateguard/device/thermal"
)

func wordBytes(w ...uint16) []byte {
	b := make([]byte, 2*len(w))
	for i, v := range w {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func op(w []byte, r []byte) i2ctest.IO { return i2ctest.IO{Addr: 0x33, W: w, R: r} }

// noSleep replaces the polling sleep for the test and records the waits.
func noSleep(t *testing.T) *[]time.Duration {
	var waits []time.Duration
	old := sleep
	sleep = func(d time.Duration) { waits = append(waits, d) }
	t.Cleanup(func() { sleep = old })
	return &waits
}

// TestPlaybackReadSequence plays back, byte for byte, the whole read
// sequence: EEPROM dump, control register read and write, then for each
// subpage the status poll (once not ready), the frame RAM read and the status
// clear. The subpage-0 pixels must match Melexis' expected temperatures.
func TestPlaybackReadSequence(t *testing.T) {
	waits := noSleep(t)
	ee := readWords(t, "eeprom.hex")
	frame := readWords(t, "frame0.hex")
	ram0 := frame[:RAMWords]
	ram1 := append([]uint16(nil), ram0...)
	ram1[ramCPSP1]++ // a different measurement for subpage 1
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		op([]byte{0x24, 0x00}, wordBytes(ee...)),
		op([]byte{0x80, 0x0D}, wordBytes(0x1901)),
		op([]byte{0x80, 0x0D, 0x19, 0x81}, nil), // 4 Hz: refresh code 3
		op([]byte{0x80, 0x00}, wordBytes(0x0000)),
		op([]byte{0x80, 0x00}, wordBytes(0x0008)),
		op([]byte{0x04, 0x00}, wordBytes(ram0...)),
		op([]byte{0x80, 0x00, 0x00, 0x30}, nil),
		op([]byte{0x80, 0x00}, wordBytes(0x0009)),
		op([]byte{0x04, 0x00}, wordBytes(ram1...)),
		op([]byte{0x80, 0x00, 0x00, 0x30}, nil),
	}}
	o := DefaultOpts
	o.Emissivity = 1
	d, err := New(bus, &o)
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	if err := d.NextFrame(&f); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if len(*waits) != 1 || (*waits)[0] != 250*time.Millisecond/8 {
		t.Errorf("poll waits %v, want one of 31.25ms", *waits)
	}
	if f.W != 32 || f.H != 24 || f.Seq != 1 {
		t.Fatalf("frame %dx%d seq %d", f.W, f.H, f.Seq)
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	// The EEPROM was calibrated at 2 Hz, which does not enter the math: the
	// subpage-0 pixels match the reference.
	want := expectedCSV(t)
	worst := 0.0
	for i, w := range want {
		if w != 0 {
			worst = max(worst, math.Abs(float64(f.C[i])-w))
		}
	}
	if worst > 0.001 {
		t.Errorf("subpage 0 max error %.5f °C", worst)
	}
	if a := d.Aux(); math.Abs(a.VddV-3.304375) > 1e-6 || math.Abs(a.TaC-33.88238) > 1e-4 {
		t.Errorf("aux %+v", a)
	}
}

func expectedCSV(t *testing.T) []float64 {
	t.Helper()
	raw, err := os.ReadFile(shared + "to_frame0.csv")
	b := string(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, line := range strings.Fields(b) {
		for _, c := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
	}
	return out
}

// sensorOps are the EEPROM and control register reads of New with the
// factory control value (2 Hz chess): no control write.
func sensorOps(t *testing.T, ee []uint16) []i2ctest.IO {
	return []i2ctest.IO{
		op([]byte{0x24, 0x00}, wordBytes(ee...)),
		op([]byte{0x80, 0x0D}, wordBytes(0x1901)),
	}
}

func subpageOps(status uint16, ram []uint16) []i2ctest.IO {
	return []i2ctest.IO{
		op([]byte{0x80, 0x00}, wordBytes(status)),
		op([]byte{0x04, 0x00}, wordBytes(ram...)),
		op([]byte{0x80, 0x00, 0x00, 0x30}, nil),
	}
}

func newAt2Hz(t *testing.T, bus *i2ctest.Playback) *Dev {
	t.Helper()
	o := DefaultOpts
	o.Refresh = 2 * physic.Hertz
	d, err := New(bus, &o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFrozenFrame(t *testing.T) {
	noSleep(t)
	ee := readWords(t, "eeprom.hex")
	ram := readWords(t, "frame0.hex")[:RAMWords]
	ops := sensorOps(t, ee)
	ops = append(ops, subpageOps(0x0008, ram)...)
	ops = append(ops, subpageOps(0x0009, ram)...)
	ops = append(ops, subpageOps(0x0008, ram)...) // the same subpage 0 again
	bus := &i2ctest.Playback{Ops: ops, DontPanic: true}
	d := newAt2Hz(t, bus)
	var f thermal.Frame
	if err := d.NextFrame(&f); err != nil {
		t.Fatal(err)
	}
	f.Seq = 99
	if err := d.NextFrame(&f); !errors.Is(err, ErrFrozen) {
		t.Fatalf("NextFrame = %v, want ErrFrozen", err)
	}
	if f.Seq != 99 {
		t.Error("a failed read touched the frame")
	}
}

func TestBadInput(t *testing.T) {
	noSleep(t)
	ee := readWords(t, "eeprom.hex")
	ram := readWords(t, "frame0.hex")[:RAMWords]
	zeroGain := append([]uint16(nil), ram...)
	zeroGain[ramGain] = 0
	hot := append([]uint16(nil), ram...)
	hot[0] = 0x7FFF // pixel (0,0) far beyond 300 °C
	ff := make([]uint16, EEPROMWords)
	for i := range ff {
		ff[i] = 0xFFFF
	}
	notReady := []i2ctest.IO{}
	for range 25 {
		notReady = append(notReady, op([]byte{0x80, 0x00}, wordBytes(0x0000)))
	}
	tests := []struct {
		name    string
		ops     []i2ctest.IO
		newErr  error
		readErr error
		msg     string
	}{
		{"eeprom all 0xFF", []i2ctest.IO{op([]byte{0x24, 0x00}, wordBytes(ff...))}, ErrEEPROM, nil, "every word reads 0xffff"},
		{"bus error on eeprom", nil, nil, nil, "read eeprom"},
		{"bus error on status", sensorOps(t, ee), nil, nil, "read status"},
		{"zero gain", append(sensorOps(t, ee), subpageOps(0x0008, zeroGain)...), nil, ErrBadData, "gain word is zero"},
		{"pixel out of range", append(sensorOps(t, ee), subpageOps(0x0008, hot)...), nil, ErrBadData, "first (0,0)"},
		{"no new data", append(sensorOps(t, ee), notReady...), nil, ErrTimeout, "status 0x0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			d, err := New(bus, &Opts{Refresh: 2 * physic.Hertz, Emissivity: 1, ReflectedC: math.NaN()})
			if err == nil {
				var f thermal.Frame
				err = d.NextFrame(&f)
				if err == nil {
					t.Fatal("no error")
				}
				if tt.readErr != nil && !errors.Is(err, tt.readErr) {
					t.Errorf("NextFrame = %v, want %v", err, tt.readErr)
				}
				if len(f.C) != 0 {
					t.Error("frame filled after an error")
				}
			} else if tt.newErr != nil && !errors.Is(err, tt.newErr) {
				t.Errorf("New = %v, want %v", err, tt.newErr)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "mlx90640: ") {
				t.Errorf("error %q should start with mlx90640: and mention %q", err, tt.msg)
			}
		})
	}
}

func TestOptsAndControl(t *testing.T) {
	ee := readWords(t, "eeprom.hex")
	for _, tt := range []struct {
		refresh physic.Frequency
		mode    Mode
		ctrl    uint16 // read 0x1901 (2 Hz, chess, 18-bit)
		write   bool
	}{
		{500 * physic.MilliHertz, Chess, 0x1801, true},
		{2 * physic.Hertz, Chess, 0x1901, false},
		{64 * physic.Hertz, Chess, 0x1B81, true},
		{2 * physic.Hertz, Interleaved, 0x0901, true},
	} {
		ops := sensorOps(t, ee)
		if tt.write {
			ops = append(ops, op([]byte{0x80, 0x0D, byte(tt.ctrl >> 8), byte(tt.ctrl)}, nil))
		}
		bus := &i2ctest.Playback{Ops: ops}
		d, err := New(bus, &Opts{Refresh: tt.refresh, Mode: tt.mode, Emissivity: 0.98})
		if err != nil {
			t.Fatal(err)
		}
		if d.ctrl != tt.ctrl {
			t.Errorf("%s %s: control %#04x, want %#04x", tt.refresh, tt.mode, d.ctrl, tt.ctrl)
		}
		if err := bus.Close(); err != nil {
			t.Error(err)
		}
	}
	for _, o := range []Opts{{Refresh: 3 * physic.Hertz, Emissivity: 1}, {Refresh: 2 * physic.Hertz, Emissivity: 0}, {Refresh: 2 * physic.Hertz, Emissivity: 1.2}} {
		if _, err := New(&i2ctest.Playback{}, &o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	d := &Dev{}
	if err := d.writeReg(0x2440, 0); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("writeReg(EEPROM) = %v", err)
	}
}

func TestHalt(t *testing.T) {
	bus := &i2ctest.Playback{Ops: sensorOps(t, readWords(t, "eeprom.hex"))}
	d := newAt2Hz(t, bus)
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if err := d.NextFrame(&thermal.Frame{}); !errors.Is(err, ErrHalted) {
		t.Errorf("NextFrame after Halt = %v", err)
	}
	if !strings.HasPrefix(d.String(), "MLX90640{playback, 0x33}") {
		t.Errorf("String() = %q", d.String())
	}
}
