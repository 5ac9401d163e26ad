package main

import (
	"context"
	"flag"
	"time"

	"github.com/gateguard/gateguard/configs"
)

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("c", "/etc/gateguard/gateguard.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"run: unexpected arguments"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log)
	log.Info("starting", "version", version, "site", cfg.Site, "gate", cfg.Gate, "config", cfg.Hash[:12])
	d, err := build(cfg, log, options{})
	if err != nil {
		return err
	}
	// A durable outbox keeps what is not yet published across the restart;
	// an in-memory one gets a few seconds to publish it before the process
	// ends (the systemd unit allows 15 s to stop).
	var drain time.Duration
	if cfg.MQTT.Enabled && cfg.Outbox.Path == "" {
		drain = 5 * time.Second
	}
	return d.run(ctx, drain)
}
