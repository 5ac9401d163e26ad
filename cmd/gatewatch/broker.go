package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gateguard/gateguard/configs"
)

// embedded is a running embedded broker as run.go uses it.
type embedded struct {
	URL                string
	Username, Password string
	Stop               func()
}

// startBroker starts the embedded broker when broker.enabled; (nil, nil)
// otherwise. (The broker helper replaces this file with the NATS server.)
func startBroker(_ context.Context, c *configs.Gatewatch, _ *slog.Logger) (*embedded, error) {
	if !c.Broker.Enabled {
		return nil, nil
	}
	return nil, errors.New("broker.enabled: the embedded broker is not built into this gatewatch yet")
}
