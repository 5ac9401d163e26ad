package credential

import (
	"context"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/vision"
)

func BenchmarkVerifyDCC(b *testing.B) {
	for _, tc := range []struct {
		name string
		rsa  bool
	}{{"ES256", false}, {"PS256", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := newTestSigner(b, tc.rsa)
			v := &DCCVerifier{Trust: NewTrustList(s.signer), Now: func() time.Time { return testClock }}
			code := vision.Code{Text: makeDCC(b, s, dccOpts{})}
			b.ReportAllocs()
			for b.Loop() {
				if c := v.Verify(context.Background(), code); c.Status != gate.StatusGreen {
					b.Fatal(c.Status, c.Reasons)
				}
			}
		})
	}
}

func BenchmarkVerifyPass(b *testing.B) {
	pub, key, _ := GenerateKey()
	v := &PassVerifier{Keys: NewPassKeys(pub), Gate: "lane-1", Now: func() time.Time { return testClock }}
	code := vision.Code{Text: mustIssue(b, testPass("p-1"), key)}
	b.ReportAllocs()
	for b.Loop() {
		if c := v.Verify(context.Background(), code); c.Status != gate.StatusGreen {
			b.Fatal(c.Status, c.Reasons)
		}
	}
}
