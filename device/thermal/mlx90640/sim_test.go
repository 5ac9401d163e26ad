package mlx90640_test

import (
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"periph.io/x/conn/v3/physic"

	"github.com/gateguard/gateguard/device/thermal"
	"github.com/gateguard/gateguard/device/thermal/mlx90640"
	"github.com/gateguard/gateguard/device/thermal/mlx90640/mlx90640test"
)

const shared = "../../../../shared/testdata/mlx90640/"

func hexWords(t *testing.T, name string) []uint16 {
	t.Helper()
	b, err := os.ReadFile(shared + name)
	if err != nil {
		t.Fatal(err)
	}
	var w []uint16
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.ParseUint(f, 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		w = append(w, uint16(v))
	}
	return w
}

// TestSimulatedSensor runs the driver against the simulated sensor for
// several frames: it never writes the EEPROM, writes only the control and
// status registers, and reads the reference temperatures.
func TestSimulatedSensor(t *testing.T) {
	ram := hexWords(t, "frame0.hex")[:mlx90640.RAMWords]
	var frames [][]uint16
	for i := range 6 {
		f := append([]uint16(nil), ram...)
		f[mlx90640.RAMWords-1] += uint16(i) // aux word that enters no equation: distinct frames
		frames = append(frames, f)
	}
	s := &mlx90640test.Sensor{
		EEPROM: hexWords(t, "eeprom.hex"), Frames: frames, Subpages: []int{0, 1, 0, 1, 0, 1},
		Control: 0x1901, NotReady: 2,
	}
	d, err := mlx90640.New(s, &mlx90640.Opts{Refresh: 8 * physic.Hertz, Emissivity: 1, ReflectedC: math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	var f thermal.Frame
	for n := range 3 {
		if err := d.NextFrame(&f); err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if err := f.Check(); err != nil {
			t.Fatal(err)
		}
	}
	if f.Seq != 3 || f.At(0, 0) < 28.70 || f.At(0, 0) > 28.72 { // to_frame0.csv: 28.711
		t.Errorf("seq %d, (0,0) = %v", f.Seq, f.At(0, 0))
	}
	if s.EEPROMWrites() != 0 {
		t.Errorf("%d EEPROM writes", s.EEPROMWrites())
	}
	for _, w := range s.Writes() {
		if w[0] != 0x800D && !(w[0] == 0x8000 && w[1] == 0x0030) {
			t.Errorf("unexpected write %#04x = %#04x", w[0], w[1])
		}
	}
	if s.Control != 0x1A01 { // 8 Hz: refresh code 4
		t.Errorf("control %#04x", s.Control)
	}

	// The sensor stops measuring: its RAM no longer changes.
	s.Frames, s.Subpages = frames[:1], []int{0}
	if err := d.NextFrame(&f); err != nil { // subpage 0 is new once
		if !errors.Is(err, mlx90640.ErrFrozen) {
			t.Fatal(err)
		}
	} else {
		t.Fatal("a full frame from one subpage")
	}
	if err := d.NextFrame(&f); !errors.Is(err, mlx90640.ErrFrozen) {
		t.Errorf("repeated data: %v", err)
	}
	s.Err = errors.New("bus stuck")
	if err := d.NextFrame(&f); err == nil || !strings.Contains(err.Error(), "bus stuck") {
		t.Errorf("bus error: %v", err)
	}
}
