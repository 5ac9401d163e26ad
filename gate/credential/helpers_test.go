package credential

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/veraison/go-cose"
)

// testSigner is a DCC document signer made for a test.
type testSigner struct {
	key    crypto.Signer
	alg    cose.Algorithm
	signer *Signer
}

// newTestSigner makes a self-signed signer certificate valid from
// 2021-01-01 for two years, with the given DCC extended key usage OIDs.
func newTestSigner(t testing.TB, rsaKey bool, usage ...string) *testSigner {
	t.Helper()
	return newTestSignerValid(t, rsaKey, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), usage...)
}

// newTestSignerValid makes a self-signed ES256 (or PS256) signer certificate
// valid from notBefore to notAfter.
func newTestSignerValid(t testing.TB, rsaKey bool, notBefore, notAfter time.Time, usage ...string) *testSigner {
	t.Helper()
	var key crypto.Signer
	alg := cose.AlgorithmES256
	var err error
	if rsaKey {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		alg = cose.AlgorithmPS256
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "DSC test", Country: []string{"XX"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	for _, u := range usage {
		var oid asn1.ObjectIdentifier
		for _, p := range bytes.Split([]byte(u), []byte(".")) {
			n := 0
			for _, c := range p {
				n = n*10 + int(c-'0')
			}
			oid = append(oid, n)
		}
		tmpl.UnknownExtKeyUsage = append(tmpl.UnknownExtKeyUsage, oid)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testSigner{key: key, alg: alg, signer: NewSigner(cert, "test")}
}

// dccOpts shapes a test certificate.
type dccOpts struct {
	typ          string // v, t or r
	iat, exp     time.Time
	kid          []byte // nil: the signer's
	unprotected  bool   // kid in the unprotected header
	untagged     bool
	cwtTag       bool // wrap in CWT tag 61
	noCompress   bool
	signWith     *testSigner // nil: the signer itself (else: forged)
	tamper       bool        // flip a payload byte after signing
	issuer       string
	holderFamily string
	noExp        bool // leave out claim 4 (expiry)
	noEntry      bool // a certificate with no v, t or r entry
}

var testClock = time.Date(2021, 6, 1, 12, 0, 0, 0, time.UTC)

// makeDCC builds the QR text of a DCC signed by s.
func makeDCC(t testing.TB, s *testSigner, o dccOpts) string {
	t.Helper()
	if o.typ == "" {
		o.typ = DCCVaccination
	}
	if o.iat.IsZero() {
		o.iat = testClock.Add(-24 * time.Hour)
	}
	if o.exp.IsZero() {
		o.exp = testClock.Add(180 * 24 * time.Hour)
	}
	if o.issuer == "" {
		o.issuer = "XX"
	}
	if o.holderFamily == "" {
		o.holderFamily = "MUSTERMANN"
	}
	hcert := map[string]any{
		"ver": "1.3.0",
		"dob": "1980-01-01",
		"nam": map[string]any{"fn": "Mustermann", "fnt": o.holderFamily, "gn": "Erika", "gnt": "ERIKA"},
	}
	if !o.noEntry {
		hcert[o.typ] = []any{map[string]any{"ci": "URN:UVCI:01:XX:TEST1234#X", "co": "XX", "is": "Test"}}
	}
	claims := map[int64]any{1: o.issuer, 4: o.exp.Unix(), 6: o.iat.Unix(), -260: map[int64]any{1: hcert}}
	if o.noExp {
		delete(claims, 4)
	}
	payload, err := encMode.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	kid := o.kid
	if kid == nil {
		kid = s.signer.KID
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(s.alg)
	if o.unprotected {
		msg.Headers.Unprotected[cose.HeaderLabelKeyID] = kid
	} else {
		msg.Headers.Protected[cose.HeaderLabelKeyID] = kid
	}
	msg.Payload = payload
	by := s
	if o.signWith != nil {
		by = o.signWith
	}
	sg, err := cose.NewSigner(by.alg, by.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Sign(rand.Reader, nil, sg); err != nil {
		t.Fatal(err)
	}
	if o.tamper {
		msg.Payload = bytes.Replace(msg.Payload, []byte("ERIKA"), []byte("ERIKO"), 1)
	}
	var b []byte
	if o.untagged {
		b, err = (*cose.UntaggedSign1Message)(msg).MarshalCBOR()
	} else {
		b, err = msg.MarshalCBOR()
	}
	if err != nil {
		t.Fatal(err)
	}
	if o.cwtTag {
		b = append([]byte{0xd8, 0x3d}, b...)
	}
	if !o.noCompress {
		b = deflate(t, b)
	}
	return DCCPrefix + Base45Encode(b)
}

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
