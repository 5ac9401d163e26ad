// Command gateguard is the gate controller daemon and its tools.
//
//	gateguard run -c FILE                 run the daemon
//	gateguard check -c FILE               validate a config; print every problem
//	gateguard simulate -c FILE SCENARIO   run the daemon on simulated hardware through a scenario
//	gateguard calibrate -c FILE [-o FILE] register the face camera to the thermal camera
//	gateguard pass keygen|issue|verify|revoke  make, check and revoke signed site passes
//	gateguard selftest -c FILE            check every configured device, print a table
//	gateguard relay-test -c FILE -n N     pulse the relay N times, report the passage input
//	gateguard enroll add|import|list|remove|keygen  enrol faces from photos
//	gateguard version                     print the version
//	gateguard keygen -o FILE              make an operator key pair for signed commands
//	gateguard command -key FILE ...       sign and send a command, print the result
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// At most two glibc malloc arenas for OpenCV's and ZXing's allocations,
	// set when the binary is loaded (issue 12: memory).
	_ "github.com/gateguard/gateguard/internal/cmalloc"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var u usageError
		if !errors.As(err, &u) || u.msg != "" {
			fmt.Fprintln(os.Stderr, "gateguard:", err)
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

const usage = `usage:
  gateguard run -c FILE                 run the gate daemon
  gateguard check -c FILE               validate a config file
  gateguard simulate -c FILE SCENARIO   run on simulated hardware through a scenario, then exit
  gateguard calibrate -c FILE [-o FILE] register the cameras with a heated target; write the calibration
  gateguard keygen -o FILE              make an operator key pair for signed commands
  gateguard command -key FILE -operator ID [-c CONFIG | -broker URL -site S -gate G]
                    [-ca F -cert F -cert-key F] [-override -reason TEXT] NAME [MODE]
                                        sign and send a command (open, set_mode MODE,
                                        reload, get_state, enroll PERSON PHOTO...,
                                        unenroll PERSON) and print the gate's result
  gateguard pass keygen|issue|verify|revoke   site passes (gateguard pass for help)
  gateguard selftest -c FILE            check every configured device; exit 1 on any failure
  gateguard relay-test -c FILE [-n N]   pulse the relay N times; report what the passage input saw
  gateguard enroll add|import|list|remove|keygen   enrolled faces (gateguard enroll for help)
  gateguard snapshot list|get -c FILE [HASH]  list or extract the fever snapshots kept in
                                        the outbox (stop the daemon first)
  gateguard version                     print the version`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		return usageError{}
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:])
	case "check":
		return cmdCheck(args[1:], os.Stdout)
	case "simulate":
		return cmdSimulate(ctx, args[1:])
	case "keygen":
		return cmdKeygen(args[1:], os.Stdout)
	case "command":
		return cmdCommand(ctx, args[1:], os.Stdout)
	case "calibrate":
		return cmdCalibrate(ctx, args[1:])
	case "pass":
		return cmdPass(ctx, args[1:], os.Stdout)
	case "selftest":
		return cmdSelftest(ctx, args[1:], os.Stdout)
	case "relay-test":
		return cmdRelayTest(ctx, args[1:], os.Stdout)
	case "enroll":
		return cmdEnroll(args[1:], os.Stdout, os.Stderr)
	case "snapshot":
		return cmdSnapshot(args[1:], os.Stdout)
	case "synth": // hidden: synthetic event source for soak tests
		return cmdSynth(ctx, args[1:], os.Stdout)
	case "version":
		fmt.Println("gateguard", version)
		return nil
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	fmt.Fprintln(os.Stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}
