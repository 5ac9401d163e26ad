package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Flags in the order the table lists them.
var flags = []string{
	"EXPECTEDPICTUREDECODE", "EXPECTEDUNPREFIX", "EXPECTEDB45DECODE", "EXPECTEDCOMPRESSION",
	"EXPECTEDVERIFY", "EXPECTEDEXPIRATIONCHECK", "EXPECTEDDECODE", "EXPECTEDVALIDJSON",
	"EXPECTEDKEYUSAGE", "EXPECTEDSCHEMAVALIDATION", "EXPECTEDENCODE", "EXPECTEDVALIDOBJECT",
}

// uncheckable names the flags GateGuard does not check, and why.
var uncheckable = map[string]string{
	"EXPECTEDSCHEMAVALIDATION": "no JSON-schema validator in GateGuard",
	"EXPECTEDENCODE":           "GateGuard never encodes certificates",
	"EXPECTEDVALIDOBJECT":      "no JSON-schema validator in GateGuard",
}

// vector is one dgc-testdata raw file.
type vector struct {
	JSON       json.RawMessage `json:"JSON"`
	CBOR       string          `json:"CBOR"`
	COSE       string          `json:"COSE"`
	Compressed string          `json:"COMPRESSED"`
	Base45     *string         `json:"BASE45"`
	Prefix     *string         `json:"PREFIX"`
	Code       *string         `json:"2DCODE"`
	TestCtx    struct {
		Certificate     string `json:"CERTIFICATE"`
		ValidationClock string `json:"VALIDATIONCLOCK"`
		Description     string `json:"DESCRIPTION"`
	} `json:"TESTCTX"`
	Expected map[string]any `json:"EXPECTEDRESULTS"`
	rawKeys  map[string]json.RawMessage
}

// outcome of one flag of one file.
type outcome int

const (
	skip outcome = iota
	pass
	fail
)

// flagResult is the verdict on one flag.
type flagResult struct {
	flag     string
	outcome  outcome
	expected bool
	got      bool
	why      string // reason for a skip or for the verdict
}

// fileResult is the verdict on one file.
type fileResult struct {
	path    string
	skipped string // reason the whole file was skipped
	flags   []flagResult
}

func (r fileResult) wrong() bool {
	for _, f := range r.flags {
		if f.outcome == fail {
			return true
		}
	}
	return false
}

func (r fileResult) checked() bool {
	for _, f := range r.flags {
		if f.outcome != skip {
			return true
		}
	}
	return false
}

// pictureDecoder decodes the QR codes in a PNG image.
type pictureDecoder func(png []byte) ([]string, error)

// checkFile runs every check its expected results ask for.
func checkFile(path string, decode pictureDecoder) fileResult {
	res := fileResult{path: path}
	b, err := os.ReadFile(path)
	if err != nil {
		res.skipped = err.Error()
		return res
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		res.skipped = "malformed JSON: " + err.Error()
		return res
	}
	_ = json.Unmarshal(b, &v.rawKeys)
	if len(v.Expected) == 0 {
		res.skipped = "no EXPECTEDRESULTS"
		return res
	}
	c := newChecker(&v, decode)
	for _, f := range flags {
		raw, ok := v.Expected[f]
		if !ok {
			continue
		}
		want, isBool := raw.(bool)
		fr := flagResult{flag: f, expected: want}
		switch {
		case !isBool:
			fr.why = fmt.Sprintf("expected value %v is not a boolean", raw)
		case uncheckable[f] != "":
			fr.why = uncheckable[f]
		default:
			got, why, ok := c.check(f)
			fr.got, fr.why = got, why
			if f == "EXPECTEDVALIDJSON" && want && !got && ok {
				if inc, bad := c.jsonContradictsCBOR(); bad {
					fr.why, ok = inc+" ("+why+")", false
				}
			}
			switch {
			case !ok:
				fr.outcome = skip
			case got == want:
				fr.outcome = pass
			default:
				fr.outcome = fail
			}
		}
		res.flags = append(res.flags, fr)
	}
	for k := range v.Expected {
		if !strings.HasPrefix(k, "EXPECTED") || !slices.Contains(flags, k) {
			res.flags = append(res.flags, flagResult{flag: k, why: "unknown (misspelled?) expected-result key"})
		}
	}
	if !res.checked() && res.skipped == "" {
		res.skipped = "no checkable expected result"
	}
	return res
}

// checker holds one vector's decoded fields.
type checker struct {
	v      *vector
	decode pictureDecoder
}

func newChecker(v *vector, decode pictureDecoder) *checker { return &checker{v: v, decode: decode} }

// check returns the verdict on flag f: got is whether the step succeeded,
// ok false when the file lacks what the check needs (why says what).
func (c *checker) check(f string) (got bool, why string, ok bool) {
	if why := c.missing(f); why != "" {
		return false, why, false
	}
	step := c.step(f)
	if step == nil {
		return false, "not checked", false
	}
	if err := step(); err != nil {
		return false, err.Error(), true
	}
	return true, "", true
}

// missing says what the file lacks that the check of flag f needs, or "".
func (c *checker) missing(f string) string {
	v := c.v
	switch f {
	case "EXPECTEDPICTUREDECODE":
		if v.Code == nil {
			if _, ok := v.rawKeys["_2DCODE"]; ok {
				return "picture under misspelled key _2DCODE"
			}
			return "no 2DCODE"
		}
		if v.Prefix == nil {
			return "no PREFIX to compare with"
		}
	case "EXPECTEDUNPREFIX":
		if v.Prefix == nil {
			return "no PREFIX"
		}
	case "EXPECTEDB45DECODE":
		if v.Base45 == nil {
			return "no BASE45"
		}
	case "EXPECTEDCOMPRESSION":
		if v.Compressed == "" || v.COSE == "" {
			return "no COMPRESSED or COSE"
		}
	case "EXPECTEDVERIFY", "EXPECTEDKEYUSAGE", "EXPECTEDEXPIRATIONCHECK", "EXPECTEDDECODE":
		return c.missingForCOSE(f)
	case "EXPECTEDVALIDJSON":
		if len(v.JSON) == 0 || (v.Prefix == nil && v.Code == nil) {
			return "no JSON or no PREFIX/2DCODE"
		}
	}
	return ""
}

// missingForCOSE is missing for the checks on the signed message.
func (c *checker) missingForCOSE(f string) string {
	v := c.v
	if v.COSE == "" && v.Prefix == nil {
		return "no COSE and no PREFIX"
	}
	switch {
	case (f == "EXPECTEDVERIFY" || f == "EXPECTEDKEYUSAGE") && v.TestCtx.Certificate == "":
		return "no TESTCTX.CERTIFICATE"
	case f == "EXPECTEDEXPIRATIONCHECK" && v.TestCtx.ValidationClock == "":
		return "no TESTCTX.VALIDATIONCLOCK"
	case f == "EXPECTEDDECODE" && v.CBOR == "":
		return "no CBOR"
	}
	return ""
}

// step returns the check of flag f, nil for a flag not checked.
func (c *checker) step(f string) func() error {
	return map[string]func() error{
		"EXPECTEDPICTUREDECODE":   c.picture,
		"EXPECTEDUNPREFIX":        c.unprefix,
		"EXPECTEDB45DECODE":       c.base45,
		"EXPECTEDCOMPRESSION":     c.compression,
		"EXPECTEDVERIFY":          c.verify,
		"EXPECTEDKEYUSAGE":        c.keyUsage,
		"EXPECTEDEXPIRATIONCHECK": c.expiration,
		"EXPECTEDDECODE":          c.decodeCBOR,
		"EXPECTEDVALIDJSON":       c.validJSON,
	}[f]
}
