package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/outbox"
)

// cmdSnapshot lists or extracts the fever snapshots kept in the outbox file
// the config names, opening it read-only. The running daemon holds the
// file's lock, so stop it first (systemctl stop gateguard).
//
//	gateguard snapshot list -c FILE
//	gateguard snapshot get -c FILE HASH > picture.png
func cmdSnapshot(args []string, stdout io.Writer) error {
	const use = "snapshot: want list -c FILE, or get -c FILE HASH (stop the daemon first: it holds the outbox's lock)"
	if len(args) == 0 || (args[0] != "list" && args[0] != "get") {
		return usageError{use}
	}
	verb := args[0]
	fs := flag.NewFlagSet("snapshot "+verb, flag.ContinueOnError)
	path := fs.String("c", "", "config file (outbox.path is used)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || (verb == "list") != (fs.NArg() == 0) || fs.NArg() > 1 {
		return usageError{use}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	if cfg.Outbox.Path == "" {
		return errors.New("snapshot: outbox.path is empty: snapshots were kept in memory only")
	}
	ob, err := outbox.OpenReadOnly(cfg.Outbox.Path, nil)
	if err != nil {
		return err
	}
	defer ob.Close()
	if verb == "list" {
		list, err := ob.Snapshots()
		if err != nil {
			return err
		}
		for _, s := range list {
			fmt.Fprintf(stdout, "%s %d\n", s.Hash, s.Bytes)
		}
		return nil
	}
	hash := fs.Arg(0)
	data, ok, err := ob.Snapshot(hash)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("snapshot: %s is not in %s (never kept, or dropped to make room for events)", hash, cfg.Outbox.Path)
	}
	if f, ok := stdout.(*os.File); ok && isTerminal(f) {
		return errors.New("snapshot: get writes a PNG: redirect it to a file")
	}
	_, err = stdout.Write(data)
	return err
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
