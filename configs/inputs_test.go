package configs

import (
	"slices"
	"testing"
)

func TestGPIOInputs(t *testing.T) {
	g := &GPIO{Passage: &Input{Pin: "GPIO5"}, FireReset: &Input{Pin: "GPIO6"}}
	if got, want := g.InputNames(), []string{"passage", "exit_button", "fire_alarm", "fire_reset"}; !slices.Equal(got, want) {
		t.Errorf("InputNames() = %v, want %v", got, want)
	}
	tests := []struct {
		name, pin string
	}{
		{"passage", "GPIO5"}, {"fire_reset", "GPIO6"}, {"exit_button", ""}, {"relay", ""}, {"nonsense", ""},
	}
	for _, tt := range tests {
		in := g.Input(tt.name)
		if (in == nil) != (tt.pin == "") || (in != nil && in.Pin != tt.pin) {
			t.Errorf("Input(%q) = %+v, want pin %q", tt.name, in, tt.pin)
		}
	}
}
