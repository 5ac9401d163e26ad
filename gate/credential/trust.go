package credential

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DCC certificate types, as the keys of the certificate JSON.
const (
	DCCTest        = "t"
	DCCVaccination = "v"
	DCCRecovery    = "r"
)

// Extended key usage OIDs that restrict what a DCC signer may sign. The
// second set is a misprint seen in the wild and accepted alike.
var dccUsageOIDs = map[string]string{
	"1.3.6.1.4.1.1847.2021.1.1":   DCCTest,
	"1.3.6.1.4.1.1847.2021.1.2":   DCCVaccination,
	"1.3.6.1.4.1.1847.2021.1.3":   DCCRecovery,
	"1.3.6.1.4.1.0.1847.2021.1.1": DCCTest,
	"1.3.6.1.4.1.0.1847.2021.1.2": DCCVaccination,
	"1.3.6.1.4.1.0.1847.2021.1.3": DCCRecovery,
}

// Signer is a document signer certificate in a trust list.
type Signer struct {
	// Cert is the signer certificate.
	Cert *x509.Certificate
	// KID is the first 8 bytes of the SHA-256 of the DER certificate.
	KID []byte
	// Usage is the set of DCC types the certificate may sign (DCCTest,
	// DCCVaccination, DCCRecovery); empty means all, unless Foreign.
	Usage []string
	// Foreign is set when the certificate's extended key usage lists only
	// other purposes (no DCC OID, no anyExtendedKeyUsage): X.509 then
	// restricts the key to those, so it may sign no DCC.
	Foreign bool
	// Source names the file the certificate came from.
	Source string
}

// NewSigner wraps a certificate.
func NewSigner(cert *x509.Certificate, source string) *Signer {
	sum := sha256.Sum256(cert.Raw)
	s := &Signer{Cert: cert, KID: sum[:8], Source: source}
	for _, oid := range cert.UnknownExtKeyUsage {
		if t, ok := dccUsageOIDs[oid.String()]; ok && !slices.Contains(s.Usage, t) {
			s.Usage = append(s.Usage, t)
		}
	}
	slices.Sort(s.Usage)
	eku := len(cert.ExtKeyUsage) + len(cert.UnknownExtKeyUsage)
	s.Foreign = len(s.Usage) == 0 && eku > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny)
	return s
}

// PublicKey returns the certificate's public key.
func (s *Signer) PublicKey() crypto.PublicKey { return s.Cert.PublicKey }

// MaySign reports whether the signer may sign a DCC of type typ: a
// certificate with no extended key usage (or an empty one) may sign every
// type; one that lists DCC OIDs only those types; one that lists only other
// purposes none.
func (s *Signer) MaySign(typ string) bool {
	if len(s.Usage) == 0 {
		return !s.Foreign
	}
	return slices.Contains(s.Usage, typ)
}

// TrustList holds DCC signer certificates by key id.
type TrustList struct {
	byKID map[string][]*Signer
	n     int
}

// NewTrustList builds a trust list from signers.
func NewTrustList(signers ...*Signer) *TrustList {
	t := &TrustList{byKID: map[string][]*Signer{}}
	for _, s := range signers {
		t.Add(s)
	}
	return t
}

// Add adds a signer.
func (t *TrustList) Add(s *Signer) {
	k := string(s.KID)
	for _, o := range t.byKID[k] {
		if bytes.Equal(o.Cert.Raw, s.Cert.Raw) {
			return
		}
	}
	t.byKID[k] = append(t.byKID[k], s)
	t.n++
}

// Len returns the number of signers.
func (t *TrustList) Len() int { return t.n }

// Lookup returns the signers with the given key id.
func (t *TrustList) Lookup(kid []byte) []*Signer {
	if t == nil {
		return nil
	}
	return t.byKID[string(kid)]
}

// LoadTrustList reads every certificate in the given files and folders
// (PEM with one or more CERTIFICATE blocks, or DER; folders are read one level
// deep, files ending in .pem, .crt, .cer or .der). Any unreadable file is an
// error naming it: a trust list is loaded whole or not at all.
func LoadTrustList(paths ...string) (*TrustList, error) {
	t := NewTrustList()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("credential: trust list: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			files = nil
			ents, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("credential: trust list: %w", err)
			}
			for _, e := range ents {
				switch strings.ToLower(filepath.Ext(e.Name())) {
				case ".pem", ".crt", ".cer", ".der":
					if !e.IsDir() {
						files = append(files, filepath.Join(p, e.Name()))
					}
				}
			}
		}
		for _, f := range files {
			certs, err := readCertificates(f)
			if err != nil {
				return nil, fmt.Errorf("credential: trust list %s: %w", f, err)
			}
			for _, c := range certs {
				t.Add(NewSigner(c, f))
			}
		}
	}
	return t, nil
}

func readCertificates(name string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseCertificates(b)
}

// ParseCertificates parses PEM CERTIFICATE blocks, or one DER certificate,
// or base64 of one DER certificate (as the DCC test vectors carry it).
func ParseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) > 0 {
		return certs, nil
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(b, &raw); err == nil {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, err
		}
		return []*x509.Certificate{c}, nil
	}
	return nil, errors.New("no PEM CERTIFICATE block and not a DER certificate")
}

// KIDString formats a key id for logs and reasons.
func KIDString(kid []byte) string { return hex.EncodeToString(kid) }
