//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package credential

import "errors"

// lockFile is not available here: refusing beats losing revocations.
func lockFile(name string) (unlock func(), err error) {
	return nil, errors.New("file locking is not supported on this system: " + name)
}
