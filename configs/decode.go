package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeStrict decodes YAML into v (a pointer to a struct) after checking that
// every key in the document names a field. Every unknown key is reported, with
// its line and dotted path, in one joined error.
func decodeStrict(data []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: all defaults
	}
	root := doc.Content[0]
	var errs []error
	checkKeys(root, reflect.TypeOf(v).Elem(), "", &errs)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := root.Decode(v); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	return nil
}

// removedKeys are keys of earlier versions, with what replaces them: a
// config that still sets one fails to load with that message rather than a
// bare "unknown key".
var removedKeys = map[string]string{
	"thermal.snapshot_dir": "fever snapshots are kept in the outbox (outbox.path), " +
		"read them with `gateguard snapshot list|get`; delete this key",
	"thermal.snapshot_max_bytes": "fever snapshots share outbox.max_bytes and are dropped oldest first " +
		"before any event is refused; delete this key",
}

// checkKeys walks a mapping node alongside the struct type t and records an
// error for every key that t has no field for.
func checkKeys(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			for j := range f.Type.NumField() {
				g := f.Type.Field(j)
				if n, _, _ := strings.Cut(g.Tag.Get("yaml"), ","); n != "" && n != "-" {
					fields[n] = g.Type
				}
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		full := key
		if path != "" {
			full = path + "." + key
		}
		ft, ok := fields[key]
		if why, gone := removedKeys[full]; !ok && gone {
			*errs = append(*errs, fmt.Errorf("line %d: %q was removed: %s", k.Line, full, why))
			continue
		}
		if !ok {
			*errs = append(*errs, fmt.Errorf("line %d: unknown key %q", k.Line, full))
			continue
		}
		checkKeys(val, ft, full, errs)
	}
}
