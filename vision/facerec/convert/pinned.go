package convert

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
)

// readPinned reads path and checks its SHA-256.
func readPinned(path, sum string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	h := sha256.Sum256(b)
	if got := hex.EncodeToString(h[:]); got != sum {
		return nil, fmt.Errorf("convert: %s: sha256 %s, want %s (face-api %s)", path, got, sum, FaceAPIVersion)
	}
	return b, nil
}
