package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// shape lists the keys an object may have, by their exact spelling, and
// the shape of each key's value when it is an object we check (nil: any
// value; the typed decode checks it).
type shape map[string]shape

var (
	argsShape     = shape{"mode": nil, "override": nil, "reason": nil, "person": nil, "name": nil, "department": nil, "model": nil, "descriptors": nil}
	bodyShape     = shape{"id": nil, "name": nil, "site": nil, "gate": nil, "operator": nil, "nonce": nil, "issued": nil, "expires": nil, "args": argsShape}
	envelopeShape = shape{"v": nil, "body": bodyShape, "sig": nil}
)

// checkKeys rejects what Go's encoding/json lets through silently: a key
// given twice (the decoder keeps the last one, so a signed body could say
// "mode":"locked","mode":"free" and mean free) and a key spelled in another
// case (the decoder matches "Mode" to mode). Both would let the bytes that
// were signed and reviewed read differently from what the gate acts on.
func checkKeys(data []byte, s shape) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return walk(dec, s, "")
}

func walk(dec *json.Decoder, s shape, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		return nil
	}
	switch d {
	case '[':
		for dec.More() {
			if err := walk(dec, nil, path+"[]"); err != nil {
				return err
			}
		}
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string) // object keys are always strings
			if seen[k] {
				return fmt.Errorf("%skey %q appears twice", at(path), k)
			}
			seen[k] = true
			if s != nil {
				if _, ok := s[k]; !ok {
					for want := range s {
						if strings.EqualFold(k, want) {
							return fmt.Errorf("%skey %q must be spelled %q (keys are case-sensitive)", at(path), k, want)
						}
					}
					return fmt.Errorf("%sunknown key %q", at(path), k)
				}
			}
			if err := walk(dec, s[k], join(path, k)); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
