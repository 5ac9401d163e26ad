package relay

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/gateguard/gateguard/device/sim"
)

const (
	L = gpio.Low
	H = gpio.High
)

func TestNewRejectsBadTiming(t *testing.T) {
	tests := []struct {
		name string
		o    Opts
		want string
	}{
		{"short pulse", Opts{Pulse: 50 * time.Millisecond}, "pulse 50ms is outside"},
		{"long pulse", Opts{Pulse: time.Second}, "pulse 1s is outside"},
		{"long hold", Opts{Hold: true, HoldFor: 11 * time.Second}, "hold 11s is outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(sim.NewPin("GPIO17", 17, L), &tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestPulse(t *testing.T) {
	tests := []struct {
		name      string
		activeLow bool
		want      []gpio.Level // New, Release, end of pulse
	}{
		{"active high", false, []gpio.Level{L, H, L}},
		{"active low", true, []gpio.Level{H, L, H}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := sim.NewPin("GPIO17", 17, L)
				d, err := New(p, &Opts{ActiveLow: tt.activeLow, Pulse: 200 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Release(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(199 * time.Millisecond) // fake clock: just before the pulse ends
				synctest.Wait()
				if got := p.History(); !slices.Equal(got, tt.want[:2]) {
					t.Fatalf("before the pulse ends: %v", got)
				}
				time.Sleep(time.Millisecond)
				synctest.Wait()
				if got := p.History(); !slices.Equal(got, tt.want) {
					t.Fatalf("history %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestHoldFreeSecureHalt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := sim.NewPin("GPIO17", 17, L)
		d, err := New(p, &Opts{Hold: true, HoldFor: 3 * time.Second, SafeOpen: false})
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Release()
		_ = d.Free()                // a fire alarm during the hold
		time.Sleep(5 * time.Second) // fake clock: the hold's end must not lock a freed lane
		synctest.Wait()
		if p.Level() != H {
			t.Fatal("hold timer locked a freed lane")
		}
		_ = d.Release() // no effect while free
		_ = d.Secure()
		if err := d.Halt(); err != nil {
			t.Fatal(err)
		}
		if err := d.Release(); err == nil {
			t.Error("Release after Halt succeeded")
		}
		want := []gpio.Level{L, H, H, L, L}
		if got := p.History(); !slices.Equal(got, want) {
			t.Errorf("history %v, want %v", got, want)
		}
	})
}

func TestHaltFailSafe(t *testing.T) {
	p := sim.NewPin("GPIO17", 17, L)
	d, err := New(p, &Opts{Pulse: 200 * time.Millisecond, SafeOpen: true, ActiveLow: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Halt(); err != nil {
		t.Fatal(err)
	}
	if p.Level() != L { // energised, active low: the lane is open
		t.Errorf("fail-safe halt left %v", p.Level())
	}
}
