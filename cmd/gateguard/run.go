package main

import (
	"context"
	"flag"

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
	return d.run(ctx, 0)
}
