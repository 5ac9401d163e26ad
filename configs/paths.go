package configs

import (
	"strconv"
	"strings"
)

// resolvePaths makes every file and folder key that holds a relative path
// relative to the config file's folder, so a gate started by systemd (whose
// working directory is /) finds the same files as `gateguard check` run from
// anywhere. Paths that are empty or already absolute are left alone.
func (c *Config) resolvePaths() {
	for _, p := range []*string{
		&c.Vision.FaceModel, &c.Vision.HaarCascade,
		&c.Thermal.CalibrationFile,
		&c.Outbox.Path,
		&c.MQTT.PasswordFile, &c.MQTT.TLS.CAFile, &c.MQTT.TLS.CertFile, &c.MQTT.TLS.KeyFile,
		&c.Commands.NonceFile,
		&c.Faces.Model, &c.Faces.TemplatesFile, &c.Faces.KeyFile,
		&c.Credentials.SitePass.RevocationList, &c.Credentials.HealthCode.CAFile,
	} {
		*p = c.Resolve(*p)
	}
	// The camera sources may name a file or an image sequence too (a
	// recording replayed), besides a device index, "simulated" or a URL.
	for _, p := range []*string{&c.Camera.Source, &c.Thermal.UVCDevice} {
		if isFileSource(*p) {
			*p = c.Resolve(*p)
		}
	}
	for _, list := range [][]string{c.Credentials.SitePass.PublicKeys, c.Credentials.DCC.TrustList} {
		for i := range list {
			list[i] = c.Resolve(list[i])
		}
	}
}

// isFileSource reports whether a camera source names a file (a video, or an
// image sequence pattern) rather than a device index, the simulator or a URL.
func isFileSource(s string) bool {
	if _, err := strconv.Atoi(s); err == nil {
		return false
	}
	return s != "" && s != "simulated" && !strings.Contains(s, "://")
}
