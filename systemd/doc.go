// Package systemd is what the daemon needs to run as a systemd service:
// the notify protocol (READY, WATCHDOG, STOPPING, STATUS) on the socket in
// NOTIFY_SOCKET, a watchdog supervisor that pings only while every work
// loop's heartbeat is fresh, so that a hung loop gets the daemon restarted,
// and a log/slog handler that writes structured records to journald's
// native socket with their fields.
//
// It is pure Go (no cgo, no go-systemd): the protocols are a few lines
// each (sd_notify(3), systemd.journal-fields(7), the journal's native
// protocol). cmd/gateguard wires it; nothing else imports it.
package systemd
