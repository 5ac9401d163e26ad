package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/mqtt"
)

// newPublisher builds the MQTT publisher that drains ob to the broker.
// calibration is the thermal registration's id for the retained info
// message ("" when there is no thermal camera, as in synth).
func newPublisher(c *configs.Config, log *slog.Logger, ob eventLog, calibration string) (*mqtt.Publisher, error) {
	pw, err := c.MQTT.Password()
	if err != nil {
		return nil, err
	}
	if c.MQTT.InsecurePassword() {
		log.Warn("INSECURE: the broker password is sent in clear text over a plain connection (mqtt.allow_insecure_password)",
			"brokers", c.MQTT.BrokerURLs())
	}
	tc, err := tlsConfig(c.MQTT)
	if err != nil {
		return nil, err
	}
	info, _ := json.Marshal(map[string]any{
		"v": gate.PayloadVersion, "site": c.Site, "gate": c.Gate, "version": version,
		"config_hash": c.Hash, "calibration_id": calibration, "started": time.Now().UTC(),
	})
	return mqtt.New(mqtt.Options{
		Brokers: c.MQTT.BrokerURLs(), ClientID: c.ClientID(), Username: c.MQTT.Username, Password: pw, TLS: tc,
		Prefix: c.TopicPrefix(), KeepAlive: c.MQTT.KeepAlive, ConnectTimeout: c.MQTT.ConnectTimeout,
		PublishTimeout: c.MQTT.PublishTimeout, Info: info, Log: log, Snapshots: snapshotSource(c, ob),
	}, ob), nil
}

// tlsConfig returns the broker TLS config, or nil for a plain connection.
func tlsConfig(m configs.MQTT) (*tls.Config, error) {
	if m.TLS.IsZero() && !m.UsesTLS() {
		return nil, nil
	}
	tc, err := mqtt.TLSConfig(mqtt.TLSFiles{CAFile: m.TLS.CAFile, CertFile: m.TLS.CertFile,
		KeyFile: m.TLS.KeyFile, ServerName: m.TLS.ServerName})
	if err != nil {
		return nil, fmt.Errorf("mqtt.tls: %w", err)
	}
	return tc, nil
}
