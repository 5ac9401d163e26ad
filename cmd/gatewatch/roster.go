package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/api"
)

// cmdRoster imports a people roster CSV (id,name,department) into the
// store, for the headcount per department.
func cmdRoster(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{msg: "usage: gatewatch roster import -c FILE ROSTER.csv"}
	}
	fs := flag.NewFlagSet("roster import", flag.ContinueOnError)
	path := fs.String("c", "/etc/gatewatch/gatewatch.yaml", "config file")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{msg: err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{msg: "usage: gatewatch roster import -c FILE ROSTER.csv"}
	}
	c, err := configs.LoadGatewatch(*path)
	if err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("gatewatch: roster: %w", err)
	}
	defer f.Close()
	people, err := api.ParseRoster(f)
	if err != nil {
		return fmt.Errorf("gatewatch: %s: %w", fs.Arg(0), err)
	}
	st, err := openStore(ctx, c, newLogger(c.Log))
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.ImportPeople(ctx, people)
	if err != nil {
		return err
	}
	fmt.Printf("imported %d people\n", n)
	return nil
}
