package mqtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

var (
	replayedFalse = []byte(`"replayed":false}`)
	replayedTrue  = []byte(`"replayed":true}`)
)

// markReplayed returns payload, a gate.Event or gate.Alert JSON object, with
// its top-level "replayed" field set to true (added when missing).
func markReplayed(payload []byte) ([]byte, error) {
	// The gate marshals Event and Alert with "replayed" last.
	if bytes.HasSuffix(payload, replayedFalse) && json.Valid(payload) {
		out := make([]byte, 0, len(payload)+1)
		out = append(out, payload[:len(payload)-len(replayedFalse)]...)
		return append(out, replayedTrue...), nil
	}
	return setField(payload, "replayed", []byte("true"))
}

// setDepth returns a gate.State JSON payload with its "outbox_depth" set.
func setDepth(state []byte, depth int) ([]byte, error) {
	return setField(state, "outbox_depth", strconv.AppendInt(nil, int64(depth), 10))
}

// setField returns the JSON object obj with every top-level member named key
// set to the JSON value val, or with key:val added when it has none. Other
// members keep their bytes and order. obj must be exactly one JSON object.
func setField(obj []byte, key string, val []byte) ([]byte, error) {
	if !json.Valid(val) {
		return nil, fmt.Errorf("mqtt: set %s: the new value is not JSON", key)
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("mqtt: set %s: payload is not a JSON object", key)
	}
	type span struct{ from, to int64 }
	var spans []span
	members := 0
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("mqtt: set %s: %w", key, err)
		}
		name, _ := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("mqtt: set %s: member %q: %w", key, name, err)
		}
		end := dec.InputOffset()
		if name == key {
			spans = append(spans, span{end - int64(len(raw)), end})
		}
		members++
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, fmt.Errorf("mqtt: set %s: unterminated object", key)
	}
	closing := dec.InputOffset() - 1
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("mqtt: set %s: data after the object", key)
	}
	if len(spans) == 0 {
		out := make([]byte, 0, len(obj)+len(key)+len(val)+4)
		out = append(out, obj[:closing]...)
		if members > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendQuote(out, key)
		out = append(out, ':')
		out = append(out, val...)
		return append(out, obj[closing:]...), nil
	}
	out := make([]byte, 0, len(obj)+len(spans)*len(val))
	prev := int64(0)
	for _, s := range spans {
		out = append(out, obj[prev:s.from]...)
		out = append(out, val...)
		prev = s.to
	}
	return append(out, obj[prev:]...), nil
}
