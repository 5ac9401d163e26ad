package configs

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
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

// removedKeys maps keys that were removed to the key that replaces them, so
// that an old config is told what to write instead of "unknown key".
var removedKeys = map[string]string{
	// one turn limit for quality and measurement
	"thermal.max_yaw_deg": "use vision.quality.max_yaw_deg",
	"thermal.snapshot_dir": "fever snapshots are kept in the outbox (outbox.path), " +
		"read them with `gateguard snapshot list|get`; delete this key",
	"thermal.snapshot_max_bytes": "fever snapshots share outbox.max_bytes and are dropped oldest first " +
		"before any event is refused; delete this key",
}

// checkKeys walks node n alongside type t, at every depth: mappings against
// struct fields (or map values), sequences item by item. It records an error
// for every key that names no field, with its line and full path, list
// items numbered as in "commands.operators[0].alow".
func checkKeys(n *yaml.Node, t reflect.Type, path string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			checkKeys(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", errs)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs)
		}
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := structFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			full := join(path, k.Value)
			ft, ok := fields[k.Value]
			if repl, gone := removedKeys[full]; gone && !ok {
				*errs = append(*errs, fmt.Errorf("line %d: %s: removed, %s", k.Line, full, repl))
				continue
			}
			if !ok {
				*errs = append(*errs, fmt.Errorf("line %d: unknown key %q", k.Line, full))
				continue
			}
			checkKeys(val, ft, full, errs)
		}
	}
}

// structFields maps the YAML keys of struct type t, inline structs' keys
// included, to their field types.
func structFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, ft := range structFields(f.Type) {
				fields[k] = ft
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
	}
	return fields
}

// join appends key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
