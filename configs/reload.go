package configs

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// liveKeys are the config keys a reload applies without a restart; a key
// ending in "." covers its whole section. It is the one list: IsLive
// classifies changed keys by it and PlanReload copies exactly these values.
// thermal.min_skin_c is not one: the thermometer's liveness check, built at
// start, uses it too.
var liveKeys = []string{"thermal.fever_c", "thermal.cold_c", "thermal.max_age",
	"policy.", "commands.operators"}

// IsLive reports whether a reload applies key (a dotted key as ChangedKeys
// names it) without a restart.
func IsLive(key string) bool {
	for _, l := range liveKeys {
		if key == l || (strings.HasSuffix(l, ".") && strings.HasPrefix(key, l)) ||
			strings.HasPrefix(key, l+"[") || strings.HasPrefix(key, l+".") {
			return true
		}
	}
	return false
}

// ReloadPlan is what reloading a config file changes.
type ReloadPlan struct {
	// Running is the configuration in effect after the reload: the running
	// one with the live keys' values of the new file.
	Running *Config
	// Applied are the changed keys the reload applies (IsLive), sorted.
	Applied []string
	// RestartRequired are the other changed keys, sorted: they take effect
	// at the next start.
	RestartRequired []string
}

// PlanReload compares the running config with next (a newly loaded and
// validated file) and returns the config to run: running with the value of
// every live key taken from next, nothing else.
func PlanReload(running, next *Config) (*ReloadPlan, error) {
	changed, err := ChangedKeys(running, next)
	if err != nil {
		return nil, err
	}
	p := &ReloadPlan{}
	for _, k := range changed {
		if IsLive(k) {
			p.Applied = append(p.Applied, k)
		} else {
			p.RestartRequired = append(p.RestartRequired, k)
		}
	}
	r := *running
	for _, key := range liveKeys {
		dst, ok := fieldAt(reflect.ValueOf(&r).Elem(), strings.TrimSuffix(key, "."))
		src, _ := fieldAt(reflect.ValueOf(next).Elem(), strings.TrimSuffix(key, "."))
		if !ok {
			return nil, fmt.Errorf("configs: reload: live key %q names no config field", key)
		}
		dst.Set(src)
	}
	p.Running = &r
	return p, nil
}

// fieldAt returns the field of struct v at a dotted YAML key, looking
// through inline structs.
func fieldAt(v reflect.Value, key string) (reflect.Value, bool) {
	for name := range strings.SplitSeq(key, ".") {
		f, ok := fieldByYAML(v, name)
		if !ok {
			return reflect.Value{}, false
		}
		v = f
	}
	return v, true
}

func fieldByYAML(v reflect.Value, name string) (reflect.Value, bool) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	t := v.Type()
	for i := range t.NumField() {
		tag, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "inline" {
			if f, ok := fieldByYAML(v.Field(i), name); ok {
				return f, true
			}
			continue
		}
		if tag == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// ChangedKeys lists the dotted config keys whose values differ, as YAML
// names them, sorted (lists compare whole: "commands.operators").
func ChangedKeys(a, b *Config) ([]string, error) {
	fa, err := flatten(a)
	if err != nil {
		return nil, err
	}
	fb, err := flatten(b)
	if err != nil {
		return nil, err
	}
	var out []string
	for k, v := range fa {
		if w, ok := fb[k]; !ok || !reflect.DeepEqual(v, w) {
			out = append(out, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// flatten maps every dotted key of c's YAML form to its value; a list is
// one value.
func flatten(c *Config) (map[string]any, error) {
	y, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("configs: reload: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(y, &m); err != nil {
		return nil, fmt.Errorf("configs: reload: %w", err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if mm, ok := v.(map[string]any); ok {
			for k, c := range mm {
				walk(join(prefix, k), c)
			}
			return
		}
		out[prefix] = v
	}
	walk("", m)
	return out, nil
}
