package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/gateguard/gateguard/gate/credential"
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
	v := c.v
	res := func(err error) (bool, string, bool) {
		if err != nil {
			return false, err.Error(), true
		}
		return true, "", true
	}
	switch f {
	case "EXPECTEDPICTUREDECODE":
		if v.Code == nil {
			if _, ok := v.rawKeys["_2DCODE"]; ok {
				return false, "picture under misspelled key _2DCODE", false
			}
			return false, "no 2DCODE", false
		}
		if v.Prefix == nil {
			return false, "no PREFIX to compare with", false
		}
		return res(c.picture())
	case "EXPECTEDUNPREFIX":
		if v.Prefix == nil {
			return false, "no PREFIX", false
		}
		return res(c.unprefix())
	case "EXPECTEDB45DECODE":
		if v.Base45 == nil {
			return false, "no BASE45", false
		}
		return res(c.base45())
	case "EXPECTEDCOMPRESSION":
		if v.Compressed == "" || v.COSE == "" {
			return false, "no COMPRESSED or COSE", false
		}
		return res(c.compression())
	case "EXPECTEDVERIFY", "EXPECTEDKEYUSAGE", "EXPECTEDEXPIRATIONCHECK", "EXPECTEDDECODE":
		if v.COSE == "" && v.Prefix == nil {
			return false, "no COSE and no PREFIX", false
		}
		switch f {
		case "EXPECTEDVERIFY":
			if v.TestCtx.Certificate == "" {
				return false, "no TESTCTX.CERTIFICATE", false
			}
			return res(c.verify())
		case "EXPECTEDKEYUSAGE":
			if v.TestCtx.Certificate == "" {
				return false, "no TESTCTX.CERTIFICATE", false
			}
			return res(c.keyUsage())
		case "EXPECTEDEXPIRATIONCHECK":
			if v.TestCtx.ValidationClock == "" {
				return false, "no TESTCTX.VALIDATIONCLOCK", false
			}
			return res(c.expiration())
		default:
			if v.CBOR == "" {
				return false, "no CBOR", false
			}
			return res(c.decodeCBOR())
		}
	case "EXPECTEDVALIDJSON":
		if len(v.JSON) == 0 || (v.Prefix == nil && v.Code == nil) {
			return false, "no JSON or no PREFIX/2DCODE", false
		}
		return res(c.validJSON())
	}
	return false, "not checked", false
}

func (c *checker) picture() error {
	png, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*c.v.Code))
	if err != nil {
		return fmt.Errorf("2DCODE base64: %w", err)
	}
	texts, err := c.decode(png)
	if err != nil {
		return err
	}
	for _, t := range texts {
		if t == *c.v.Prefix {
			return nil
		}
	}
	if len(texts) == 0 {
		return errors.New("no QR code decoded")
	}
	return fmt.Errorf("decoded %d code(s), none equal to PREFIX", len(texts))
}

func (c *checker) unprefix() error {
	b45, err := credential.Unprefix(*c.v.Prefix)
	if err != nil {
		return err
	}
	if c.v.Base45 != nil && b45 != *c.v.Base45 {
		return errors.New("unprefixed text differs from BASE45")
	}
	return nil
}

func (c *checker) base45() error {
	b, err := credential.Base45Decode(*c.v.Base45)
	if err != nil {
		return err
	}
	if c.v.Compressed != "" {
		want, err := hexField("COMPRESSED", c.v.Compressed)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, want) {
			return errors.New("base45 decoding differs from COMPRESSED")
		}
	}
	return nil
}

func (c *checker) compression() error {
	z, err := hexField("COMPRESSED", c.v.Compressed)
	if err != nil {
		return err
	}
	out, err := credential.Inflate(z, credential.MaxInflated)
	if err != nil {
		return err
	}
	want, err := hexField("COSE", c.v.COSE)
	if err != nil {
		return err
	}
	if !bytes.Equal(out, want) {
		return errors.New("decompressed data differs from COSE")
	}
	return nil
}

// sign1 decodes the COSE field or, when a file has none, the PREFIX chain.
func (c *checker) sign1() (*credential.Sign1, error) {
	if c.v.COSE == "" {
		return credential.DecodeDCCText(*c.v.Prefix)
	}
	b, err := hexField("COSE", c.v.COSE)
	if err != nil {
		return nil, err
	}
	return credential.ParseSign1(b)
}

func (c *checker) signer() (*credential.Signer, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.v.TestCtx.Certificate))
	if err != nil {
		return nil, fmt.Errorf("TESTCTX.CERTIFICATE base64: %w", err)
	}
	certs, err := credential.ParseCertificates(der)
	if err != nil {
		return nil, fmt.Errorf("TESTCTX.CERTIFICATE: %w", err)
	}
	return credential.NewSigner(certs[0], "TESTCTX.CERTIFICATE"), nil
}

// verify checks the signature as the gate does: the certificate is a trust
// list of one, looked up by the message's key id.
func (c *checker) verify() error {
	_, _, err := c.verified()
	return err
}

func (c *checker) verified() (*credential.Sign1, *credential.Signer, error) {
	s, err := c.sign1()
	if err != nil {
		return nil, nil, err
	}
	sg, err := c.signer()
	if err != nil {
		return nil, nil, err
	}
	trust := credential.NewTrustList(sg)
	if len(trust.Lookup(s.KID)) == 0 {
		return nil, nil, fmt.Errorf("%w: kid %s, certificate's %s", credential.ErrNoSigner,
			credential.KIDString(s.KID), credential.KIDString(sg.KID))
	}
	if err := s.VerifyWith(sg); err != nil {
		return nil, nil, err
	}
	return s, sg, nil
}

// keyUsage judges the certificate's type against the key usage of the
// file's own signer certificate (TESTCTX.CERTIFICATE), as the vectors'
// README defines the flag and the reference suite checks it: neither the
// kid lookup nor the signature is part of it (EXPECTEDVERIFY judges those;
// some files expect KEYUSAGE true with VERIFY false, a kid that is not the
// certificate's). The gate itself still finds signers by kid and verifies
// before it looks at key usage.
func (c *checker) keyUsage() error {
	s, err := c.sign1()
	if err != nil {
		return err
	}
	sg, err := c.signer()
	if err != nil {
		return err
	}
	claims, err := credential.ParseClaims(s.Msg.Payload)
	if err != nil {
		return err
	}
	hc, err := credential.ParseHCert(claims.HCert)
	if err != nil {
		return err
	}
	if hc.Type == "" {
		return fmt.Errorf("%w: no v, t or r entry", credential.ErrHCert)
	}
	if !sg.MaySign(hc.Type) {
		return fmt.Errorf("%w: type %q, signer allows %v", credential.ErrKeyUsage, hc.Type, sg.Usage)
	}
	return nil
}

func (c *checker) expiration() error {
	clock, err := parseClock(c.v.TestCtx.ValidationClock)
	if err != nil {
		return fmt.Errorf("TESTCTX.VALIDATIONCLOCK: %w", err)
	}
	s, err := c.sign1()
	if err != nil {
		return err
	}
	claims, err := credential.ParseClaims(s.Msg.Payload)
	if err != nil {
		return err
	}
	return claims.CheckValidity(clock, 0)
}

func (c *checker) decodeCBOR() error {
	s, err := c.sign1()
	if err != nil {
		return err
	}
	claims, err := credential.ParseClaims(s.Msg.Payload)
	if err != nil {
		return err
	}
	want, err := hexField("CBOR", c.v.CBOR)
	if err != nil {
		return err
	}
	// Member states put either the certificate or the whole claims map in
	// the CBOR field.
	if err := sameCBOR(claims.HCert, want); err != nil {
		if sameCBOR(s.Msg.Payload, want) == nil {
			return nil
		}
		return err
	}
	return nil
}

// parseClock reads a VALIDATIONCLOCK: ISO 8601 with or without a zone
// (UTC assumed) or fraction, zone written +01:00 or +0100.
func parseClock(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time", s)
}

func (c *checker) validJSON() error {
	text, err := c.chainText()
	if err != nil {
		return err
	}
	s, err := credential.DecodeDCCText(text)
	if err != nil {
		return err
	}
	claims, err := credential.ParseClaims(s.Msg.Payload)
	if err != nil {
		return err
	}
	hc, err := credential.ParseHCert(claims.HCert)
	if err != nil {
		return err
	}
	want, err := decodeJSON(c.v.JSON)
	if err != nil {
		return fmt.Errorf("JSON field: %w", err)
	}
	if ok, at := sameContent(map[string]any(hc.Body), want); !ok {
		return fmt.Errorf("decoded certificate differs from JSON at %s", at)
	}
	return nil
}

// jsonContradictsCBOR reports whether the file's JSON field differs from its
// own CBOR field while that CBOR field matches the certificate decoded from
// the QR chain: then the member state's JSON is the odd one out and no
// decoder can meet EXPECTEDVALIDJSON=true. It returns the explanation.
func (c *checker) jsonContradictsCBOR() (string, bool) {
	if c.v.CBOR == "" || len(c.v.JSON) == 0 || c.v.Prefix == nil {
		return "", false
	}
	cb, err := hexField("CBOR", c.v.CBOR)
	if err != nil {
		return "", false
	}
	var field any
	if err := cbor.Unmarshal(cb, &field); err != nil {
		return "", false
	}
	// The CBOR field holds the certificate or, in some files, the whole
	// claims map (-260 → 1 → certificate).
	if m, ok := field.(map[any]any); ok {
		if hc, ok := m[int64(-260)].(map[any]any); ok {
			field = hc[uint64(1)]
		}
	}
	s, err := credential.DecodeDCCText(*c.v.Prefix)
	if err != nil {
		return "", false
	}
	claims, err := credential.ParseClaims(s.Msg.Payload)
	if err != nil {
		return "", false
	}
	hc, err := credential.ParseHCert(claims.HCert)
	if err != nil {
		return "", false
	}
	want, err := decodeJSON(c.v.JSON)
	if err != nil {
		return "", false
	}
	if ok, _ := sameContent(map[string]any(hc.Body), field); !ok {
		return "", false
	}
	ok, at := sameContent(field, want)
	if ok {
		return "", false
	}
	return fmt.Sprintf("vector inconsistent: its JSON differs at %s from its own CBOR field, which matches the QR code", at), true
}

// chainText is the QR text the whole chain starts from: PREFIX, or when a
// file has none, the text decoded from its picture.
func (c *checker) chainText() (string, error) {
	if c.v.Prefix != nil {
		return *c.v.Prefix, nil
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*c.v.Code))
	if err != nil {
		return "", fmt.Errorf("2DCODE base64: %w", err)
	}
	texts, err := c.decode(png)
	if err != nil {
		return "", err
	}
	for _, t := range texts {
		if strings.HasPrefix(t, credential.DCCPrefix) {
			return t, nil
		}
	}
	return "", errors.New("no HC1: code in the picture")
}

func hexField(name, s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%s hex: %w", name, err)
	}
	return b, nil
}

// sameCBOR compares two CBOR items as data, ignoring map order and encoding
// choices.
func sameCBOR(a, b []byte) error {
	var x, y any
	if err := cbor.Unmarshal(a, &x); err != nil {
		return fmt.Errorf("decoded payload: %w", err)
	}
	if err := cbor.Unmarshal(b, &y); err != nil {
		return fmt.Errorf("CBOR field: %w", err)
	}
	if ok, at := sameContent(x, y); !ok {
		return fmt.Errorf("decoded payload differs from CBOR at %s", at)
	}
	return nil
}
