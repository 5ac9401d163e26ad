package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gateguard/gateguard/configs"
)

// cmdCheck validates a config file and prints every problem.
func cmdCheck(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("c", "/etc/gatewatch/gatewatch.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{msg: err.Error()}
	}
	c, err := configs.LoadGatewatch(*path)
	if err != nil {
		return err
	}
	if _, err := c.API.Token(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: ok (store %s, config %s)\n", *path, c.StoreDriver(), c.Hash[:12])
	return nil
}
