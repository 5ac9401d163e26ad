package main

import "fmt"

// clockStatus is what the kernel says of the system clock's discipline.
type clockStatus struct {
	// Unsynced is the kernel's STA_UNSYNC flag (or a TIME_ERROR state): no
	// time daemon is steering the clock.
	Unsynced bool
	// MaxError is the kernel's estimate of the largest error, in µs.
	MaxError int64
}

// readClock reads the kernel's clock status; a seam for tests.
var readClock = kernelClock

// checkClock checks that the system clock is synchronised: pass validity
// windows, command expiries and every event's time depend on it.
func checkClock() checkResult {
	r := checkResult{name: "clock", device: "system clock"}
	s, err := readClock()
	switch {
	case err != nil:
		r.status, r.detail = statusFail, err.Error()
		r.hint = "adjtimex is not available: check the clock with timedatectl"
	case s.Unsynced:
		r.status, r.detail = statusFail, fmt.Sprintf("not synchronised (kernel STA_UNSYNC, max error %d ms)", s.MaxError/1000)
		r.hint = "timedatectl timesync-status: systemd-timesyncd (or chrony) runs, an NTP server is reachable " +
			"(/etc/systemd/timesyncd.conf NTP=), and UDP 123 is open; a Pi has no battery clock, so it needs NTP after every boot"
	default:
		r.detail = fmt.Sprintf("synchronised, max error %d ms", s.MaxError/1000)
	}
	return r
}
