//go:build !linux

package main

import "errors"

// kernelClock is not available off Linux.
func kernelClock() (clockStatus, error) {
	return clockStatus{}, errors.New("clock: status not available on this system")
}
