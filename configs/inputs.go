package configs

import (
	"reflect"
	"strings"
)

// The digital inputs under gpio are the GPIO struct's *Input fields; their
// names (the YAML keys) come from the struct itself, so no second list of
// them is kept here. The gate's list of input kinds (gate.Inputs) uses the
// same names, and cmd/gateguard checks that the two agree.

var inputType = reflect.TypeFor[*Input]()

// InputNames returns the YAML names of the inputs under gpio, in the order
// the config declares them (passage, exit_button, fire_alarm, fire_reset).
func (g *GPIO) InputNames() []string {
	t := reflect.TypeFor[GPIO]()
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.Type == inputType {
			out = append(out, yamlName(f))
		}
	}
	return out
}

// Input returns the configured input of that YAML name; nil when it is not
// configured (or there is no such input).
func (g *GPIO) Input(name string) *Input {
	v := reflect.ValueOf(g).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if f := t.Field(i); f.Type == inputType && yamlName(f) == name {
			in, _ := v.Field(i).Interface().(*Input)
			return in
		}
	}
	return nil
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
