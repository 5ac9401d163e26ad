package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/ingest"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/mqtt"
)

// pruneEvery is how often retention runs.
const pruneEvery = time.Hour

func newLogger(c configs.Log) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(c.Level))
	o := &slog.HandlerOptions{Level: lv}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, o))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, o))
}

// openStore opens the configured store, retrying with backoff while the
// database is unreachable (PostgreSQL starting after gatewatch).
func openStore(ctx context.Context, c *configs.Gatewatch, log *slog.Logger) (store.Store, error) {
	if c.StoreDriver() == "sqlite" {
		return sqlite.Open(ctx, c.DataDir)
	}
	dsn, err := c.Store.StoreDSN()
	if err != nil {
		return nil, err
	}
	delay := time.Second
	for {
		s, err := postgres.Open(ctx, dsn)
		if err == nil {
			return s, nil
		}
		log.Error("database unreachable: retrying", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gatewatch: store: %w", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

func cmdRun(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("c", "/etc/gatewatch/gatewatch.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{msg: err.Error()}
	}
	c, err := configs.LoadGatewatch(*path)
	if err != nil {
		return err
	}
	return serve(ctx, c, newLogger(c.Log), nil)
}

// serve runs gatewatch until ctx ends. ready, when not nil, receives the
// API's address once it listens (tests).
func serve(ctx context.Context, c *configs.Gatewatch, log *slog.Logger, ready chan<- string) error {
	token, err := c.API.Token()
	if err != nil {
		return err
	}
	password, err := c.MQTT.Password()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store open", "driver", c.StoreDriver(), "data_dir", c.DataDir)

	brokers, username := c.MQTT.Brokers, c.MQTT.Username
	b, err := startBroker(ctx, c, log)
	if err != nil {
		return err
	}
	if b != nil {
		defer b.Stop()
		brokers = append([]string{b.URL}, brokers...)
		username, password = b.Username, b.Password
	}
	o := ingest.Options{Brokers: brokers, ClientID: c.ClientID(), Username: username, Password: password,
		Prefix: c.MQTT.Prefix, BatchSize: c.Store.BatchSize, BatchWait: c.Store.BatchWait, KeepAlive: c.MQTT.KeepAlive,
		Log: log.With("part", "ingest")}
	if !c.MQTT.TLS.IsZero() {
		t := c.MQTT.TLS
		if o.TLS, err = mqtt.TLSConfig(mqtt.TLSFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName}); err != nil {
			return err
		}
	}
	if b != nil && b.TLS != nil {
		o.TLS = b.TLS // the embedded broker's own listener, trusted exactly
	}
	in, err := ingest.New(st, o)
	if err != nil {
		return err
	}
	health := api.HealthFunc(func() (bool, any) { h := in.Health(); return h.StoreOK, h })
	h, err := api.New(api.Options{Store: st, Token: token, Health: health, Location: time.Local, Log: log.With("part", "api")})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.API.Listen)
	if err != nil {
		return fmt.Errorf("gatewatch: api.listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("api listening", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("gatewatch: api: %w", err)
		}
	})
	wg.Go(func() {
		if err := in.Run(ctx); err != nil {
			errc <- err
		}
	})
	wg.Go(func() { prune(ctx, st, c.Retention, log) })
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = srv.Shutdown(sctx)
	scancel()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

// prune applies retention at start and every pruneEvery.
func prune(ctx context.Context, st store.Store, r configs.Retention, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		res, err := st.Prune(ctx, time.Now(), store.Retention{Events: r.Events, Snapshots: r.Snapshots})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention failed", "err", err)
		case res.Events+res.AlertMessages+res.Snapshots+res.Quarantined > 0:
			log.Info("retention", "events", res.Events, "alert_messages", res.AlertMessages, "snapshots", res.Snapshots,
				"quarantined", res.Quarantined, "partitions_dropped", res.Partitions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
