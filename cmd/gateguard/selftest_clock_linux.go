package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// kernelClock reads the clock status with adjtimex(2), read only.
func kernelClock() (clockStatus, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return clockStatus{}, fmt.Errorf("clock: adjtimex: %w", err)
	}
	return clockStatus{
		Unsynced: state == unix.TIME_ERROR || tx.Status&unix.STA_UNSYNC != 0,
		MaxError: int64(tx.Maxerror),
	}, nil
}
