package command

import (
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkVerify measures one command's verification: parse, Ed25519
// verify and the nonce commit, in memory and in a fsynced file.
func BenchmarkVerify(b *testing.B) {
	for _, store := range []string{"memory", "file"} {
		b.Run(store, func(b *testing.B) {
			var ns NonceStore = &MemoryNonces{}
			if store == "file" {
				f, err := OpenFileNonces(filepath.Join(b.TempDir(), "n.json"))
				if err != nil {
					b.Fatal(err)
				}
				ns = f
			}
			v, err := NewVerifier(Options{Site: "plant-1", Gate: "lane-1", Nonces: ns,
				Operators: []Operator{{ID: "alice", Key: aliceSK.Public().(ed25519.PublicKey), Allow: Names}},
				Now:       func() time.Time { return t0.Add(time.Second) }})
			if err != nil {
				b.Fatal(err)
			}
			payloads := make([][]byte, b.N)
			for i := range payloads {
				bd := body(Open)
				bd.Nonce = uint64(i + 1)
				if payloads[i], err = Sign(bd, aliceSK); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.Verify(Open, false, payloads[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
