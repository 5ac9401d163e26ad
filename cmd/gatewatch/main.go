// Command gatewatch is GateGuard's central entry log: it receives what
// every gate publishes, keeps it (SQLite in one data folder, or
// PostgreSQL), and serves it over an authenticated HTTP API.
//
//	gatewatch run -c FILE                    run: ingest, API, retention
//	gatewatch check -c FILE                  validate a config; print every problem
//	gatewatch roster import -c FILE CSV      load the people roster (id,name,department)
//	gatewatch gate add [-c FILE] NAME        credentials for a gate on the embedded broker
//	gatewatch version                        print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// commands are the subcommands; other files add theirs in init.
var commands = map[string]func(ctx context.Context, args []string) error{
	"run":    cmdRun,
	"check":  func(_ context.Context, args []string) error { return cmdCheck(args, os.Stdout) },
	"roster": cmdRoster,
	"version": func(context.Context, []string) error {
		fmt.Println("gatewatch", version)
		return nil
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var u usageError
		if !errors.As(err, &u) || u.msg != "" {
			fmt.Fprintln(os.Stderr, "gatewatch:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError reports bad command-line use (exit code 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

func usage() string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return "usage: gatewatch " + strings.Join(names, "|") + " [-c FILE] ...\n" +
		"  gatewatch run -c FILE                 run: ingest, API, retention\n" +
		"  gatewatch check -c FILE               validate a config file\n" +
		"  gatewatch roster import -c FILE CSV   load the people roster (id,name,department)\n" +
		"  gatewatch gate add [-c FILE] [-site S] [-broker URL] [-password-file PATH] [-o FILE] NAME\n" +
		"                                        credentials for a gate on the embedded broker; prints its config keys\n" +
		"  gatewatch version                     print the version"
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage())
		return usageError{}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintln(os.Stderr, usage())
		return usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
	}
	return cmd(ctx, args[1:])
}
