package credential

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// Size limits of the decoding pipeline. A QR code holds at most 4296
// alphanumeric characters, so anything larger is not from a QR code.
const (
	// MaxText is the longest QR payload text accepted.
	MaxText = 8192
	// MaxInflated bounds the output of zlib: a decompression bomb fails as
	// soon as it passes this many bytes, without inflating the rest.
	MaxInflated = 64 << 10
)

// Errors of the decoding pipeline; each wraps the cause.
var (
	ErrTooLarge   = errors.New("credential: payload too large")
	ErrCompressed = errors.New("credential: invalid zlib data")
	ErrCOSE       = errors.New("credential: invalid COSE_Sign1")
	ErrClaims     = errors.New("credential: invalid CWT claims")
)

// decMode decodes untrusted CBOR with bounded nesting and sizes and no
// duplicate map keys.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  16,
		MaxArrayElements: 1024,
		MaxMapPairs:      1024,
		IntDec:           cbor.IntDecConvertSigned,
	}.DecMode()
	if err != nil {
		panic("credential: cbor options: " + err.Error())
	}
	return m
}()

// Inflate decompresses zlib data, failing with ErrTooLarge as soon as the
// output passes limit bytes.
func Inflate(b []byte, limit int) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompressed, err)
	}
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompressed, err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("%w: zlib output exceeds %d bytes", ErrTooLarge, limit)
	}
	return out, nil
}

// Sign1 is a decoded COSE_Sign1 message with its signer's key id.
type Sign1 struct {
	// Msg is the message as go-cose decoded it.
	Msg *cose.Sign1Message
	// KID is the key id from the protected header, else the unprotected one.
	KID []byte
	// Alg is the signature algorithm: from the protected header, else (some
	// member states' files) from the unprotected one.
	Alg cose.Algorithm
	// AlgUnprotected is set when Alg came from the unprotected header.
	AlgUnprotected bool
}

// ParseSign1 decodes a COSE_Sign1 message, tagged (CBOR tag 18, optionally
// inside a CWT tag 61) or untagged.
func ParseSign1(b []byte) (*Sign1, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrCOSE)
	}
	for range 2 {
		if b[0] == 0x84 { // untagged four-element array
			break
		}
		var tag cbor.RawTag
		if err := decMode.Unmarshal(b, &tag); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCOSE, err)
		}
		switch tag.Number {
		case 61, cose.CBORTagSign1Message: // CWT wrapper, then COSE_Sign1
			b = tag.Content
		default:
			return nil, fmt.Errorf("%w: unexpected CBOR tag %d", ErrCOSE, tag.Number)
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: empty tag content", ErrCOSE)
		}
	}
	var m cose.UntaggedSign1Message
	if err := m.UnmarshalCBOR(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCOSE, err)
	}
	msg := (*cose.Sign1Message)(&m)
	if msg.Payload == nil {
		return nil, fmt.Errorf("%w: detached payload", ErrCOSE)
	}
	s := &Sign1{Msg: msg}
	if kid, ok := msg.Headers.Protected[cose.HeaderLabelKeyID].([]byte); ok {
		s.KID = kid
	} else if kid, ok := msg.Headers.Unprotected[cose.HeaderLabelKeyID].([]byte); ok {
		s.KID = kid
	}
	alg, err := msg.Headers.Protected.Algorithm()
	if errors.Is(err, cose.ErrAlgorithmNotFound) {
		if _, inProtected := msg.Headers.Protected[cose.HeaderLabelAlgorithm]; !inProtected {
			alg, err = unprotectedAlgorithm(msg.Headers.Unprotected)
			s.AlgUnprotected = true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: algorithm: %w", ErrCOSE, err)
	}
	s.Alg = alg
	return s, nil
}

// Claims are the CWT claims of a signed credential (RFC 8392).
type Claims struct {
	Issuer    string
	Subject   string
	Expires   time.Time // zero when absent
	NotBefore time.Time // zero when absent
	IssuedAt  time.Time // zero when absent
	CWTID     []byte
	// HCert is the EU DCC payload (claim -260, key 1), as CBOR; nil when absent.
	HCert cbor.RawMessage
	// Private holds the other claims, as CBOR, by label.
	Private map[int64]cbor.RawMessage
}

// ParseClaims decodes a CWT claims map.
func ParseClaims(b []byte) (*Claims, error) {
	var raw map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClaims, err)
	}
	c := &Claims{Private: map[int64]cbor.RawMessage{}}
	var err error
	for k, v := range raw {
		switch k {
		case 1:
			err = decMode.Unmarshal(v, &c.Issuer)
		case 2:
			err = decMode.Unmarshal(v, &c.Subject)
		case 4:
			c.Expires, err = numericDate(v)
		case 5:
			c.NotBefore, err = numericDate(v)
		case 6:
			c.IssuedAt, err = numericDate(v)
		case 7:
			err = decMode.Unmarshal(v, &c.CWTID)
		case -260:
			var hc map[int64]cbor.RawMessage
			if err = decMode.Unmarshal(v, &hc); err == nil {
				c.HCert = hc[1]
			}
		default:
			c.Private[k] = v
		}
		if err != nil {
			return nil, fmt.Errorf("%w: claim %d: %w", ErrClaims, k, err)
		}
	}
	return c, nil
}

// numericDate decodes a CWT NumericDate: an integer or a float of seconds
// since 1970, optionally with tag 1.
func numericDate(b cbor.RawMessage) (time.Time, error) {
	var v any
	if err := decMode.Unmarshal(b, &v); err != nil {
		return time.Time{}, err
	}
	if t, ok := v.(cbor.Tag); ok && t.Number == 1 {
		v = t.Content
	}
	var secs float64
	switch n := v.(type) {
	case int64:
		return time.Unix(n, 0).UTC(), nil
	case uint64:
		if n > math.MaxInt64/2 {
			return time.Time{}, fmt.Errorf("date %d out of range", n)
		}
		return time.Unix(int64(n), 0).UTC(), nil
	case float64:
		secs = n
	case float32:
		secs = float64(n)
	default:
		return time.Time{}, fmt.Errorf("date is a %T, not a number", v)
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e15 {
		return time.Time{}, fmt.Errorf("date %v out of range", secs)
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(frac*1e9)).UTC(), nil
}

func unprotectedAlgorithm(h cose.UnprotectedHeader) (cose.Algorithm, error) {
	switch a := h[cose.HeaderLabelAlgorithm].(type) {
	case int64:
		return cose.Algorithm(a), nil
	case nil:
		return 0, cose.ErrAlgorithmNotFound
	default:
		return 0, fmt.Errorf("algorithm is a %T, not an integer", a)
	}
}
