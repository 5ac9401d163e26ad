package main

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/gateguard/gateguard/gate/central/store/pgtest"
)

// runPostgres runs a throwaway PostgreSQL server (gate/central/store/pgtest,
// in its own temporary folder) for the console's soak on the large-site
// stack: it prints "pg: ready DSN" once the server accepts connections and
// stops it, removing its folder, when standard input closes or ctx ends.
func runPostgres(ctx context.Context) error {
	pg, err := pgtest.StartDir("", pgtest.Options{Durable: true})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	fmt.Println("pg: ready", pg.DSN)
	eof := make(chan struct{})
	go func() { // reads stdin until it closes (not owned: stdin closes at exit)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
		}
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	if err := pg.Stop(); err != nil {
		return fmt.Errorf("postgres: stop: %w", err)
	}
	return nil
}
