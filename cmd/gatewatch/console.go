package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/console"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/postgres"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
)

// consoleDB opens the console's tables in the store's database.
func consoleDB(ctx context.Context, st store.Store) (*console.DB, error) {
	var db *sql.DB
	dialect := ""
	switch s := st.(type) {
	case *sqlite.Store:
		db, dialect = s.SQL, "sqlite"
	case *postgres.Store:
		db, dialect = s.SQL, "postgres"
	default:
		return nil, fmt.Errorf("gatewatch: console: store %T has no SQL database", st)
	}
	return console.OpenDB(ctx, db, dialect)
}

// readOperatorKey reads a PKCS #8 PEM Ed25519 private key (gateguard keygen).
func readOperatorKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gatewatch: console.command_key_file: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("gatewatch: console.command_key_file: %s: not a PEM PRIVATE KEY", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("gatewatch: console.command_key_file: %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("gatewatch: console.command_key_file: %s: not an Ed25519 key", path)
	}
	return ek, nil
}

// mqttLink is what the console's commander needs of gatewatch's broker
// connection: the same brokers, credentials and TLS as the ingest.
type mqttLink struct {
	Brokers            []string
	Username, Password string
	TLS                *tls.Config
}

// startConsole builds the console (nil when console.disabled) and the
// handler that serves it beside the API: /api/ goes to api, the rest to
// the console. The returned run function runs its live hub until ctx ends;
// stop closes its MQTT connection.
func startConsole(ctx context.Context, c *configs.Gatewatch, st store.Store, api http.Handler, link mqttLink, log *slog.Logger) (h http.Handler, run func(context.Context), stop func(), err error) {
	if c.Console.Disabled {
		return api, func(context.Context) {}, func() {}, nil
	}
	db, err := consoleDB(ctx, st)
	if err != nil {
		return nil, nil, nil, err
	}
	o := console.Options{Store: st, DB: db, Lanes: c.Console.Lanes, SessionTTL: c.ConsoleSessionTTL(),
		Secure: c.Console.TLS.CertFile != "", Language: c.ConsoleLanguage(), Location: time.Local,
		TrendDays: c.ConsoleTrendDays(), Log: log.With("part", "console")}
	if e := c.Console.Enrolment; e.Model != "" {
		o.Enrolment = console.EnrolmentOptions{Model: e.Model, Dim: e.EnrolmentDim(), Stations: map[string]ed25519.PublicKey{}}
		for id, k := range e.StationKeys() {
			o.Enrolment.Stations[id] = k
		}
	}
	stop = func() {}
	if c.Console.CommandKeyFile != "" {
		key, err := readOperatorKey(c.Console.CommandKeyFile)
		if err != nil {
			return nil, nil, nil, err
		}
		cmd, err := console.NewMQTTCommander(console.MQTTOptions{Brokers: link.Brokers, ClientID: c.ClientID() + "-console",
			Username: link.Username, Password: link.Password, TLS: link.TLS, Prefix: c.MQTT.Prefix,
			Operator: c.Console.OperatorID, Key: key, Timeout: c.ConsoleCommandTimeout(), Log: log.With("part", "console")})
		if err != nil {
			return nil, nil, nil, err
		}
		o.Commander, stop = cmd, cmd.Close
	}
	con, err := console.New(o)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	users, err := db.Users(ctx)
	if err == nil && len(users) == 0 {
		log.Warn("console: no users yet; add one with: gatewatch user add -c " + c.Path + " -role admin NAME")
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", con)
	return mux, con.Run, stop, nil
}

// serveHTTP serves srv on ln, over TLS when console.tls is configured.
func serveHTTP(c *configs.Gatewatch, srv *http.Server, ln func() error, tlsLn func(cert, key string) error) error {
	var err error
	if c.Console.TLS.CertFile != "" {
		err = tlsLn(c.Console.TLS.CertFile, c.Console.TLS.KeyFile)
	} else {
		err = ln()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("gatewatch: api: %w", err)
	}
	return nil
}

// consoleURL is where the console is reached, printed on stdout at start.
func consoleURL(c *configs.Gatewatch, addr string) string {
	if c.Console.TLS.CertFile != "" {
		return "https://" + addr + "/"
	}
	return "http://" + addr + "/"
}
