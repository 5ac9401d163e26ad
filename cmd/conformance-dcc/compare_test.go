package main

import (
	"bytes"
	"compress/zlib"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"

	"github.com/gateguard/gateguard/gate/credential"
)

func TestSameContent(t *testing.T) {
	tests := []struct {
		name string
		a, b string // JSON texts
		want bool
	}{
		{"1 and 1.0", `{"dn":1}`, `{"dn":1.0}`, true},
		{"1 and 1e0", `{"dn":1}`, `{"dn":1e0}`, true},
		{"5e-1 and 0.5", `{"x":5e-1}`, `{"x":0.5}`, true},
		{"1 and 2", `{"dn":1}`, `{"dn":2}`, false},
		{"number and string", `{"dn":1}`, `{"dn":"1"}`, false},
		{"large integers by value", `{"n":9007199254740993}`, `{"n":9007199254740992}`, false},
		{"key order", `{"a":1,"b":{"c":"x","d":"y"}}`, `{"b":{"d":"y","c":"x"},"a":1}`, true},
		{"missing key", `{"a":1,"b":2}`, `{"a":1}`, false},
		{"extra key", `{"a":1}`, `{"a":1,"b":2}`, false},
		{"array order matters", `{"v":[1,2]}`, `{"v":[2,1]}`, false},
		{"Z and +00:00", `{"sc":"2021-05-29T19:21:13Z"}`, `{"sc":"2021-05-29T19:21:13+00:00"}`, true},
		{"same instant, other zone", `{"sc":"2021-05-24T10:20:00Z"}`, `{"sc":"2021-05-24T12:20:00+02:00"}`, true},
		{"zone is not dropped", `{"sc":"2021-05-24T12:20:00Z"}`, `{"sc":"2021-05-24T12:20:00+02:00"}`, false},
		{"two hours apart", `{"dr":"2021-05-17T14:45:01Z"}`, `{"dr":"2021-05-17T12:45:01Z"}`, false},
		{"dates are text", `{"dob":"1980-01-01"}`, `{"dob":"1980-1-1"}`, false},
		{"null and absent", `{"a":null}`, `{}`, false},
		{"true and 1", `{"a":true}`, `{"a":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := decodeJSON([]byte(tt.a))
			if err != nil {
				t.Fatal(err)
			}
			b, err := decodeJSON([]byte(tt.b))
			if err != nil {
				t.Fatal(err)
			}
			if got, at := sameContent(a, b); got != tt.want {
				t.Errorf("sameContent(%s, %s) = %v (at %s), want %v", tt.a, tt.b, got, at, tt.want)
			}
			if got, _ := sameContent(b, a); got != tt.want {
				t.Errorf("not symmetric: sameContent(%s, %s) = %v", tt.b, tt.a, got)
			}
		})
	}
}

// TestSameContentCBORAndJSON compares CBOR-decoded values with JSON ones,
// as EXPECTEDVALIDJSON does: integers, floats (half precision too), tagged
// date-times and map order.
func TestSameContentCBORAndJSON(t *testing.T) {
	enc, err := cbor.EncOptions{ShortestFloat: cbor.ShortestFloat16, Time: cbor.TimeRFC3339, TimeTag: cbor.EncTagRequired}.EncMode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := enc.Marshal(map[any]any{
		"dn": uint64(1), "neg": int64(-3), "x": 0.5, "f": 1.0,
		"sc":  time.Date(2021, 5, 29, 19, 21, 13, 0, time.UTC),
		"nam": map[string]any{"gn": "A", "fn": "B"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var fromCBOR any
	if err := cbor.Unmarshal(b, &fromCBOR); err != nil {
		t.Fatal(err)
	}
	for _, js := range []string{
		`{"nam":{"fn":"B","gn":"A"},"sc":"2021-05-29T19:21:13+00:00","f":1,"x":5e-1,"neg":-3.0,"dn":1.0}`,
		`{"dn":1,"neg":-3,"x":0.5,"f":1.0,"sc":"2021-05-29T21:21:13+02:00","nam":{"gn":"A","fn":"B"}}`,
	} {
		want, err := decodeJSON([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		if ok, at := sameContent(fromCBOR, want); !ok {
			t.Errorf("CBOR vs %s: differ at %s", js, at)
		}
	}
	want, _ := decodeJSON([]byte(`{"dn":2,"neg":-3,"x":0.5,"f":1,"sc":"2021-05-29T19:21:13Z","nam":{"gn":"A","fn":"B"}}`))
	if ok, at := sameContent(fromCBOR, want); ok || at != "$.dn" {
		t.Errorf("dn 1 vs 2: same=%v at %q, want a difference at $.dn", ok, at)
	}
}

// synth builds dgc-testdata style vectors from a key and certificate made
// here.
type synth struct {
	t    *testing.T
	key  *ecdsa.PrivateKey
	cert []byte // DER
}

func newSynth(t *testing.T, usage ...asn1.ObjectIdentifier) *synth {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(1),
		Subject:            pkix.Name{CommonName: "synthetic DSC", Country: []string{"XX"}},
		NotBefore:          time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:           time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:           x509.KeyUsageDigitalSignature,
		UnknownExtKeyUsage: usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &synth{t: t, key: key, cert: der}
}

// vector writes a file: hcert signed under kid (nil: the certificate's),
// with the given JSON and CBOR fields and expected results.
func (s *synth) vector(dir, name string, kid []byte, hcert map[string]any, jsonField string, cborField any, expected map[string]bool) string {
	t := s.t
	t.Helper()
	cert, err := x509.ParseCertificate(s.cert)
	if err != nil {
		t.Fatal(err)
	}
	if kid == nil {
		kid = credential.NewSigner(cert, "").KID
	}
	coseBytes := s.sign(kid, hcert)
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(coseBytes)
	w.Close()
	v := map[string]any{
		"COSE":   hex.EncodeToString(coseBytes),
		"PREFIX": credential.DCCPrefix + credential.Base45Encode(z.Bytes()),
		"TESTCTX": map[string]any{
			"CERTIFICATE":     base64.StdEncoding.EncodeToString(s.cert),
			"VALIDATIONCLOCK": "2021-06-01T00:00:00Z",
		},
		"EXPECTEDRESULTS": expected,
	}
	if jsonField != "" {
		v["JSON"] = json.RawMessage(jsonField)
	}
	if cborField != nil {
		cb, err := cbor.Marshal(cborField)
		if err != nil {
			t.Fatal(err)
		}
		v["CBOR"] = hex.EncodeToString(cb)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sign returns the COSE Sign1 message of hcert's CWT, signed under kid.
func (s *synth) sign(kid []byte, hcert map[string]any) []byte {
	t := s.t
	t.Helper()
	payload, err := cbor.Marshal(map[int64]any{1: "XX", 4: int64(1700000000), 6: int64(1620000000), -260: map[int64]any{1: hcert}})
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(cose.AlgorithmES256)
	msg.Headers.Protected[cose.HeaderLabelKeyID] = kid
	msg.Payload = payload
	sg, err := cose.NewSigner(cose.AlgorithmES256, s.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Sign(rand.Reader, nil, sg); err != nil {
		t.Fatal(err)
	}
	coseBytes, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return coseBytes
}

func hcertOf(typ string) map[string]any {
	return map[string]any{
		"ver": "1.3.0", "dob": "1980-01-01",
		"nam": map[string]any{"fnt": "MUSTERMANN", "gnt": "ERIKA"},
		typ:   []any{map[string]any{"ci": "URN:UVCI:01:XX:1", "dn": 1, "sd": 2, "sc": "2021-05-29T19:21:13Z"}},
	}
}

func flagOf(t *testing.T, r fileResult, flag string) flagResult {
	t.Helper()
	for _, f := range r.flags {
		if f.flag == flag {
			return f
		}
	}
	t.Fatalf("%s: no %s verdict in %+v", r.path, flag, r)
	return flagResult{}
}

// TestKeyUsageAgainstOwnCertificate: EXPECTEDKEYUSAGE is judged against
// TESTCTX.CERTIFICATE, whatever kid the COSE header carries (the PL files
// whose kid is another DSC's expect key usage true and verify false).
func TestKeyUsageAgainstOwnCertificate(t *testing.T) {
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 1847, 2021, 1, 2} // vaccination
	s := newSynth(t, oid)
	dir := t.TempDir()
	otherKID := []byte{0x18, 0xed, 0x2b, 0x7f, 0x54, 0xe7, 0x79, 0x04}
	tests := []struct {
		name     string
		kid      []byte
		typ      string
		expected map[string]bool
		wrong    bool
	}{
		{"vaccination, other kid", otherKID, "v", map[string]bool{"EXPECTEDKEYUSAGE": true, "EXPECTEDVERIFY": false}, false},
		{"vaccination, own kid", nil, "v", map[string]bool{"EXPECTEDKEYUSAGE": true, "EXPECTEDVERIFY": true}, false},
		{"test under a vaccination DSC, other kid", otherKID, "t", map[string]bool{"EXPECTEDKEYUSAGE": false}, false},
		{"test under a vaccination DSC, own kid", nil, "t", map[string]bool{"EXPECTEDKEYUSAGE": false, "EXPECTEDVERIFY": true}, false},
		{"wrong expectation is caught", otherKID, "t", map[string]bool{"EXPECTEDKEYUSAGE": true}, true},
		{"wrong expectation is caught (allowed type)", otherKID, "v", map[string]bool{"EXPECTEDKEYUSAGE": false}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.vector(dir, string(rune('a'+i))+".json", tt.kid, hcertOf(tt.typ), "", nil, tt.expected)
			r := checkFile(p, nil)
			if r.wrong() != tt.wrong {
				t.Fatalf("wrong=%v, want %v: %+v", r.wrong(), tt.wrong, r.flags)
			}
			if f := flagOf(t, r, "EXPECTEDKEYUSAGE"); f.outcome == skip {
				t.Fatalf("key usage skipped: %s", f.why)
			}
		})
	}
}

// TestValidJSONVerdicts: formatting differences pass, content differences
// fail, and a file whose JSON disagrees with its own CBOR field (which
// agrees with the QR code) is reported as an inconsistent vector, not as a
// wrong judgement.
func TestValidJSONVerdicts(t *testing.T) {
	s := newSynth(t)
	dir := t.TempDir()
	hc := hcertOf("t")
	exp := map[string]bool{"EXPECTEDVALIDJSON": true}
	reformatted := `{"t":[{"sc":"2021-05-29T19:21:13+00:00","sd":2.0,"dn":1e0,"ci":"URN:UVCI:01:XX:1"}],"nam":{"gnt":"ERIKA","fnt":"MUSTERMANN"},"dob":"1980-01-01","ver":"1.3.0"}`
	otherName := `{"t":[{"sc":"2021-05-29T19:21:13Z","sd":2,"dn":1,"ci":"URN:UVCI:01:XX:1"}],"nam":{"gnt":"OMAR","fnt":"AKDI"},"dob":"1980-01-01","ver":"1.3.0"}`
	hcOther := hcertOf("t")
	hcOther["nam"] = map[string]any{"fnt": "AKDI", "gnt": "OMAR"}

	tests := []struct {
		name     string
		json     string
		cbor     any
		expected bool
		outcome  outcome
	}{
		{"same content, other formatting", reformatted, nil, true, pass},
		{"same content, CBOR field agrees", reformatted, hc, true, pass},
		{"other name, expected to match", otherName, nil, true, fail},
		{"other name, expected to differ", otherName, nil, false, pass},
		{"JSON contradicts its own CBOR and QR", otherName, hc, true, skip},
		{"JSON contradicts CBOR as claims map", otherName, map[int64]any{1: "XX", -260: map[int64]any{1: hc}}, true, skip},
		{"QR differs from CBOR and JSON", otherName, hcOther, true, fail},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp["EXPECTEDVALIDJSON"] = tt.expected
			p := s.vector(dir, string(rune('a'+i))+".json", nil, hc, tt.json, tt.cbor, exp)
			f := flagOf(t, checkFile(p, nil), "EXPECTEDVALIDJSON")
			if f.outcome != tt.outcome {
				t.Fatalf("outcome %s (%s), want %s", outcomeName(f.outcome), f.why, outcomeName(tt.outcome))
			}
		})
	}
}
