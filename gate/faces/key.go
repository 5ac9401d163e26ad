package faces

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a templates key: AES-256.
const KeySize = 32

// sealed starts an encrypted templates file; it is also the AEAD's
// additional data, so the header cannot be swapped.
var sealed = []byte("GGFACES1")

func isSealed(data []byte) bool { return bytes.HasPrefix(data, sealed) }

// seal encrypts plain with AES-256-GCM under a fresh random nonce:
// header, nonce, ciphertext and tag.
func seal(key, plain []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("faces: nonce: %w", err)
	}
	out := append(append([]byte{}, sealed...), nonce...)
	return aead.Seal(out, nonce, plain, sealed), nil
}

// open decrypts a sealed file.
func open(key, data []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	rest := data[len(sealed):]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("encrypted file is truncated")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], sealed)
	if err != nil {
		return nil, ErrWrongKey
	}
	return plain, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("faces: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("faces: key: %w", err)
	}
	return aead, nil
}

// GenerateKey returns a new random key in the text form ParseKey reads.
func GenerateKey() (string, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return "", fmt.Errorf("faces: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k), nil
}

// ParseKey decodes a key: the standard base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("faces: key is not base64: %w", err)
	}
	if len(k) != KeySize {
		return nil, fmt.Errorf("faces: key is %d bytes, want %d", len(k), KeySize)
	}
	return k, nil
}

// LoadKey reads the templates key from a file (file, when set) or an
// environment variable (env, when set; the file wins when both are). It
// returns nil, nil when neither is configured: templates are then kept
// unencrypted.
func LoadKey(file, env string) ([]byte, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("faces: key file: %w", err)
		}
		k, err := ParseKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("faces: key file %s: %w", file, err)
		}
		return k, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return nil, fmt.Errorf("faces: key environment variable %s is not set", env)
		}
		k, err := ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("faces: key in $%s: %w", env, err)
		}
		return k, nil
	}
	return nil, nil
}
