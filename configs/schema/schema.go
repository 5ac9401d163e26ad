// Package schema holds the JSON Schemas of every MQTT payload GateGuard
// publishes or accepts (docs/mqtt.md is checked against them) and validates
// payloads with them. Tests use it to validate every message the daemon
// publishes; central consumers can use the .json files directly.
package schema

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// Base is the URL every schema's $id starts with.
const Base = "https://github.com/gateguard/gateguard/configs/schema/"

// Schema file names.
const (
	EventAccess   = "event-access.json"
	EventAlert    = "event-alert.json"
	State         = "state.json"
	Info          = "info.json"
	Command       = "command.json"
	CommandResult = "command-result.json"
	HAConfig      = "ha-config.json"
	Snapshot      = "snapshot.json"
)

// Set is the compiled schemas.
type Set struct {
	m map[string]*jsonschema.Schema
}

// Load compiles every schema, asserting formats (date-time) and content
// encodings (base64).
func Load() (*Set, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	names, err := Names()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema: %s: %w", n, err)
		}
		if err := c.AddResource(Base+n, doc); err != nil {
			return nil, fmt.Errorf("schema: %s: %w", n, err)
		}
	}
	s := &Set{m: map[string]*jsonschema.Schema{}}
	for _, n := range names {
		sch, err := c.Compile(Base + n)
		if err != nil {
			return nil, fmt.Errorf("schema: %s: %w", n, err)
		}
		s.m[n] = sch
	}
	return s, nil
}

// Names lists the schema files.
func Names() ([]string, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// Source returns a schema file's text.
func Source(name string) ([]byte, error) { return files.ReadFile(name) }

// Validate validates a JSON payload against the named schema.
func (s *Set) Validate(name string, payload []byte) error {
	sch, ok := s.m[name]
	if !ok {
		return fmt.Errorf("schema: no schema %q", name)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("schema: %s: payload is not JSON: %w", name, err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("schema: %s: %w", name, err)
	}
	return nil
}

// ForTopic returns the schema of a topic relative to a gate's prefix
// (<prefix>/<site>/<gate>/), or "" for availability, whose payload is the
// plain string online or offline. ok is false for a topic outside the
// contract.
func ForTopic(rel string) (name string, ok bool) {
	switch rel {
	case "availability":
		return "", true
	case "info":
		return Info, true
	case "state":
		return State, true
	case "event/access":
		return EventAccess, true
	case "event/alert":
		return EventAlert, true
	}
	if h, ok := strings.CutPrefix(rel, "snapshot/"); ok && h != "" && !strings.Contains(h, "/") {
		return Snapshot, true
	}
	if cmd, ok := strings.CutPrefix(rel, "cmd/"); ok {
		switch {
		case path.Base(cmd) == "result" && !strings.Contains(path.Dir(cmd), "/"):
			return CommandResult, true
		case !strings.Contains(cmd, "/"):
			return Command, true
		}
	}
	return "", false
}

// ValidateTopic validates a message published on a topic relative to a
// gate's prefix.
func (s *Set) ValidateTopic(rel string, payload []byte) error {
	name, ok := ForTopic(rel)
	switch {
	case !ok:
		return fmt.Errorf("schema: topic %q is not in the contract", rel)
	case name == "":
		if p := string(payload); p != "online" && p != "offline" {
			return fmt.Errorf("schema: availability %q is not online or offline", p)
		}
		return nil
	}
	return s.Validate(name, payload)
}
