package main

import (
	"slices"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
)

// TestInputListsAgree: the gate's input kinds and the config's inputs under
// gpio are the same names in the same order, so that wiring every
// gate.Inputs kind from the config leaves no configured input unwired.
func TestInputListsAgree(t *testing.T) {
	var names []string
	for _, k := range gate.Inputs {
		names = append(names, k.String())
	}
	if cfg := (&configs.GPIO{}).InputNames(); !slices.Equal(names, cfg) {
		t.Errorf("gate.Inputs %v, config inputs under gpio %v", names, cfg)
	}
}
