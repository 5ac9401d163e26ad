package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/vision/fusion"
)

// errInvalidConfig is returned by check after printing the problems.
var errInvalidConfig = errors.New("config is not valid")

func cmdCheck(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	path := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{"check: want -c FILE"}
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		// configs joins one error per problem; print each on its own line.
		msg := err.Error()
		prefix, rest, ok := strings.Cut(msg, ": ")
		if ok && strings.Contains(rest, "\n") {
			for _, line := range strings.Split(rest, "\n") {
				fmt.Fprintf(out, "%s: %s\n", prefix, line)
			}
		} else {
			fmt.Fprintln(out, msg)
		}
		return fmt.Errorf("%s: %w", *path, errInvalidConfig)
	}
	if f := cfg.Thermal.CalibrationFile; f != "" {
		cal, err := fusion.LoadCalibration(f)
		if err != nil {
			fmt.Fprintf(out, "%s: thermal.calibration_file: %v\n", *path, err)
			return fmt.Errorf("%s: %w", *path, errInvalidConfig)
		}
		// The daemon refuses to start on a calibration for another sensor.
		if size := thermalSize(cfg.Thermal, nil); size != (image.Point{}) && size != cal.Thermal() {
			fmt.Fprintf(out, "%s: thermal.calibration_file: calibration %s is for a %v thermal frame, the %s gives %v\n",
				*path, cal.ID, cal.Thermal(), cfg.Thermal.Sensor, size)
			return fmt.Errorf("%s: %w", *path, errInvalidConfig)
		}
		fmt.Fprintf(out, "%s: calibration %s (%v → %v, %.3f px)\n", f, cal.ID, cal.Visible(), cal.Thermal(), cal.RMSErrorPx)
	}
	// The daemon refuses to start with a blackbody outside the thermal frame.
	frame := thermalSize(cfg.Thermal, nil)
	if frame == (image.Point{}) && cfg.Thermal.CalibrationFile != "" {
		if cal, err := fusion.LoadCalibration(cfg.Thermal.CalibrationFile); err == nil {
			frame = cal.Thermal()
		}
	}
	if err := blackbodyFits(cfg.Thermal.Blackbody, frame); err != nil {
		fmt.Fprintf(out, "%s: %v\n", *path, err)
		return fmt.Errorf("%s: %w", *path, errInvalidConfig)
	}
	fmt.Fprintf(out, "%s: ok (site %s, gate %s, config %s)\n", *path, cfg.Site, cfg.Gate, cfg.Hash[:12])
	return nil
}
