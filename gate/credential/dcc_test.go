package credential

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

func TestDCCVerify(t *testing.T) {
	ec := newTestSigner(t, false)
	rs := newTestSigner(t, true)
	vaccOnly := newTestSigner(t, false, "1.3.6.1.4.1.1847.2021.1.2")
	testOnlyAlt := newTestSigner(t, false, "1.3.6.1.4.1.0.1847.2021.1.1")
	untrusted := newTestSigner(t, false)
	trust := NewTrustList(ec.signer, rs.signer, vaccOnly.signer, testOnlyAlt.signer)
	v := &DCCVerifier{Trust: trust, Now: func() time.Time { return testClock }, Skew: time.Minute}

	tests := []struct {
		name   string
		text   string
		want   gate.CredentialStatus
		reason string
	}{
		{"ES256 green", makeDCC(t, ec, dccOpts{}), gate.StatusGreen, ""},
		{"PS256 green", makeDCC(t, rs, dccOpts{}), gate.StatusGreen, ""},
		{"untagged COSE", makeDCC(t, ec, dccOpts{untagged: true}), gate.StatusGreen, ""},
		{"kid in unprotected header", makeDCC(t, ec, dccOpts{unprotected: true}), gate.StatusGreen, ""},
		{"not compressed", makeDCC(t, ec, dccOpts{noCompress: true}), gate.StatusGreen, ""},
		{"CWT and COSE tags", makeDCC(t, ec, dccOpts{cwtTag: true}), gate.StatusGreen, ""},
		{"CWT tag, not compressed", makeDCC(t, ec, dccOpts{cwtTag: true, noCompress: true}), gate.StatusGreen, ""},
		{"key usage allows vaccination", makeDCC(t, vaccOnly, dccOpts{typ: DCCVaccination}), gate.StatusGreen, ""},
		{"key usage forbids test", makeDCC(t, vaccOnly, dccOpts{typ: DCCTest}), gate.StatusUnknownIssuer, "may not sign"},
		{"misprinted OID allows test", makeDCC(t, testOnlyAlt, dccOpts{typ: DCCTest}), gate.StatusGreen, ""},
		{"misprinted OID forbids recovery", makeDCC(t, testOnlyAlt, dccOpts{typ: DCCRecovery}), gate.StatusUnknownIssuer, "may not sign"},
		{"forged: signed by another key under a trusted kid", makeDCC(t, ec, dccOpts{signWith: untrusted}), gate.StatusForged, "signature"},
		{"forged: payload altered", makeDCC(t, ec, dccOpts{tamper: true}), gate.StatusForged, "signature"},
		{"forged: ES256 header with an RSA signer", makeDCC(t, ec, dccOpts{kid: rs.signer.KID}), gate.StatusForged, "signature"},
		{"unknown kid", makeDCC(t, untrusted, dccOpts{}), gate.StatusUnknownIssuer, "no trusted signer"},
		{"expired", makeDCC(t, ec, dccOpts{exp: testClock.Add(-time.Second)}), gate.StatusExpired, "expired"},
		{"not yet valid", makeDCC(t, ec, dccOpts{iat: testClock.Add(time.Hour)}), gate.StatusNotYetValid, "not yet valid"},
		{"no expiry claim", makeDCC(t, ec, dccOpts{noExp: true}), gate.StatusCheckFailed, "no expiry"},
		{"no v, t or r entry", makeDCC(t, ec, dccOpts{noEntry: true}), gate.StatusCheckFailed, "no vaccination (v), test (t) or recovery (r) entry"},
		{"no entry, key usage limited", makeDCC(t, vaccOnly, dccOpts{noEntry: true}), gate.StatusCheckFailed, "no vaccination"},
		{"truncated base45", makeDCC(t, ec, dccOpts{})[:100], gate.StatusCheckFailed, ""},
		{"no prefix", strings.TrimPrefix(makeDCC(t, ec, dccOpts{}), DCCPrefix), gate.StatusCheckFailed, "prefix"},
		{"oversized", DCCPrefix + strings.Repeat("0", MaxText), gate.StatusCheckFailed, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := v.Verify(context.Background(), vision.Code{Text: tt.text})
			if c.Status != tt.want {
				t.Fatalf("status %s %v, want %s", c.Status, c.Reasons, tt.want)
			}
			if c.Verified != (tt.want == gate.StatusGreen) || c.Kind != KindDCC {
				t.Errorf("verified=%v kind=%q", c.Verified, c.Kind)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(c.Reasons, ";"), tt.reason) {
				t.Errorf("reasons %q do not mention %q", c.Reasons, tt.reason)
			}
			if c.Status == gate.StatusGreen {
				if c.Holder != "MUSTERMANN<<ERIKA" || c.ID != "URN:UVCI:01:XX:TEST1234#X" || c.Issuer != "XX" || c.ValidUntil == nil {
					t.Errorf("credential %+v", c)
				}
			}
		})
	}
}

// TestDCCSignerValidity checks the signer certificate's own validity window
// at its edges: a DCC signed by a certificate that has expired, or has not
// started yet (beyond the verifier's skew), is refused whatever its own dates.
// X.509 times are whole seconds, so the edges are a second apart.
func TestDCCSignerValidity(t *testing.T) {
	const skew = time.Minute
	year := 365 * 24 * time.Hour
	tests := []struct {
		name                string
		notBefore, notAfter time.Time
		want                gate.CredentialStatus
		reason              string
	}{
		{"inside its window", testClock.Add(-year), testClock.Add(year), gate.StatusGreen, ""},
		{"expired a second ago", testClock.Add(-year), testClock.Add(-time.Second), gate.StatusExpired, "signer certificate expired"},
		{"expires exactly now", testClock.Add(-year), testClock, gate.StatusGreen, ""},
		{"starts in an hour", testClock.Add(time.Hour), testClock.Add(year), gate.StatusNotYetValid, "signer certificate valid from"},
		{"starts a second after the skew", testClock.Add(skew + time.Second), testClock.Add(year), gate.StatusNotYetValid, "signer certificate valid from"},
		{"starts exactly at the skew", testClock.Add(skew), testClock.Add(year), gate.StatusGreen, ""},
		{"starts now", testClock, testClock.Add(year), gate.StatusGreen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestSignerValid(t, false, tt.notBefore, tt.notAfter)
			v := &DCCVerifier{Trust: NewTrustList(s.signer), Now: func() time.Time { return testClock }, Skew: skew}
			// The DCC itself is valid at testClock: only the signer's dates decide.
			c := v.Verify(context.Background(), vision.Code{Text: makeDCC(t, s, dccOpts{})})
			if c.Status != tt.want {
				t.Fatalf("status %s %v, want %s", c.Status, c.Reasons, tt.want)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(c.Reasons, ";"), tt.reason) {
				t.Errorf("reasons %q do not mention %q", c.Reasons, tt.reason)
			}
		})
	}
}

func TestDCCTruncatedBase45(t *testing.T) {
	ec := newTestSigner(t, false)
	text := makeDCC(t, ec, dccOpts{})
	for _, cut := range []int{1, 2, 3, 10} {
		_, err := DecodeDCCText(text[:len(text)-cut])
		if err == nil {
			t.Errorf("cut %d: decoded", cut)
		}
	}
	b45 := strings.TrimPrefix(text, DCCPrefix)
	if _, err := DecodeDCCText(DCCPrefix + b45[:len(b45)/3*3-2]); !errors.Is(err, ErrBase45) {
		t.Errorf("a length of 1 mod 3 must be a base45 error, got %v", err)
	}
}

func TestInflateBomb(t *testing.T) {
	bomb := deflate(t, make([]byte, 50<<20)) // 50 MiB of zeros: ~50 KB compressed
	if len(bomb) > MaxText*8 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := Inflate(bomb, MaxInflated)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Inflate(bomb) = %v, want ErrTooLarge", err)
	}
	// A bomb small enough to fit in a QR code's worth of base45.
	small := deflate(t, make([]byte, 4<<20))
	text := DCCPrefix + Base45Encode(small)
	if len(text) > MaxText {
		t.Logf("%d-byte text (> MaxText): rejected before inflating", len(text))
	}
	if _, err := DecodeDCCText(text); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("DecodeDCCText(bomb) = %v, want ErrTooLarge", err)
	}
	if _, err := Inflate(deflate(t, make([]byte, 1<<20))[:40], MaxInflated); !errors.Is(err, ErrCompressed) {
		t.Fatalf("truncated zlib: %v, want ErrCompressed", err)
	}
}

// TestDCCMemberStateVector verifies a real member-state file end to end: the
// signer certificate from its test context is the trust list, at its clock.
func TestDCCMemberStateVector(t *testing.T) {
	for _, tc := range []struct {
		file string
		want gate.CredentialStatus
	}{
		{"common/CO3.json", gate.StatusGreen},  // EC 256 key
		{"common/CO1.json", gate.StatusGreen},  // RSA 2048
		{"common/CO5.json", gate.StatusForged}, // signature invalid
		{"common/CO17.json", gate.StatusExpired},
		{"common/CO16.json", gate.StatusNotYetValid},
		{"common/CO10.json", gate.StatusUnknownIssuer}, // key usage: recovery OID, vaccination DCC
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("../../../shared/testdata/dcc/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			var v struct {
				PREFIX  string
				COSE    string
				TESTCTX struct{ CERTIFICATE, VALIDATIONCLOCK string }
			}
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			der, _ := base64.StdEncoding.DecodeString(v.TESTCTX.CERTIFICATE)
			certs, err := ParseCertificates(der)
			if err != nil {
				t.Fatal(err)
			}
			clock, err := time.Parse(time.RFC3339, v.TESTCTX.VALIDATIONCLOCK)
			if err != nil {
				t.Fatal(err)
			}
			text := v.PREFIX
			if text == "" { // some files carry only the COSE
				raw, _ := hex.DecodeString(v.COSE)
				text = DCCPrefix + Base45Encode(deflate(t, raw))
			}
			ver := &DCCVerifier{Trust: NewTrustList(NewSigner(certs[0], tc.file)), Now: func() time.Time { return clock }}
			c := ver.Verify(context.Background(), vision.Code{Text: text})
			if c.Status != tc.want {
				t.Fatalf("status %s %v, want %s", c.Status, c.Reasons, tc.want)
			}
		})
	}
}

func TestLoadTrustList(t *testing.T) {
	ec := newTestSigner(t, false)
	rs := newTestSigner(t, true, "1.3.6.1.4.1.1847.2021.1.3")
	dir := t.TempDir()
	pemBytes := func(s *testSigner) []byte {
		return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(s.signer.Cert.Raw) + "\n-----END CERTIFICATE-----\n")
	}
	if err := os.WriteFile(dir+"/a.pem", pemBytes(ec), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/b.der", rs.signer.Cert.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/README.txt", []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	tl, err := LoadTrustList(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tl.Len() != 2 || len(tl.Lookup(ec.signer.KID)) != 1 || len(tl.Lookup(rs.signer.KID)) != 1 {
		t.Fatalf("trust list has %d signers", tl.Len())
	}
	if got := tl.Lookup(rs.signer.KID)[0]; !got.MaySign(DCCRecovery) || got.MaySign(DCCVaccination) {
		t.Errorf("usage %v", got.Usage)
	}
	if err := os.WriteFile(dir+"/c.crt", []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrustList(dir); err == nil || !strings.Contains(err.Error(), "c.crt") {
		t.Errorf("bad file: %v, want an error naming c.crt", err)
	}
	if _, err := LoadTrustList(dir + "/missing"); err == nil {
		t.Error("missing folder loaded")
	}
	if !bytes.Equal(tl.Lookup(ec.signer.KID)[0].Cert.Raw, ec.signer.Cert.Raw) {
		t.Error("wrong certificate")
	}
}

func FuzzDecodeDCC(f *testing.F) {
	ec := newTestSigner(f, false)
	f.Add(makeDCC(f, ec, dccOpts{}))
	f.Add(makeDCC(f, ec, dccOpts{untagged: true, noCompress: true}))
	f.Add("HC1:")
	f.Add("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*Y3F.IKXJ/%DTJCHDC$:CM4C/GN.YC$DEC%KV-3U 3 9U2U2I*V% P%SJ/UN%8QFD7-PCJQ5/VN9/N UNDEMWBT-XF4*QUHUC/EFATWFP-")
	trust := NewTrustList(ec.signer)
	v := &DCCVerifier{Trust: trust, Now: func() time.Time { return testClock }}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := DecodeDCCText(text)
		if err == nil {
			if c, err := ParseClaims(s.Msg.Payload); err == nil {
				_, _ = ParseHCert(c.HCert)
			}
		}
		c := v.Verify(context.Background(), vision.Code{Text: text})
		if c.Status == gate.StatusGreen && !c.Verified {
			t.Fatal("green without verification")
		}
	})
}

func FuzzParseSign1(f *testing.F) {
	ec := newTestSigner(f, false)
	text := makeDCC(f, ec, dccOpts{noCompress: true})
	raw, _ := Base45Decode(strings.TrimPrefix(text, DCCPrefix))
	f.Add(raw)
	f.Add([]byte{0xd8, 0x3d, 0xd2, 0x84, 0x40, 0xa0, 0x41, 0x00, 0x41, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSign1(b)
		if err != nil {
			return
		}
		_ = s.VerifyWith(ec.signer)
		if c, err := ParseClaims(s.Msg.Payload); err == nil {
			_, _ = ParseHCert(c.HCert)
		}
	})
}

func FuzzInflate(f *testing.F) {
	f.Add(deflate(f, []byte("hello")))
	f.Add(deflate(f, make([]byte, 1<<20)))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := Inflate(b, 4096)
		if err == nil && len(out) > 4096 {
			t.Fatalf("%d bytes past the limit", len(out))
		}
	})
}
