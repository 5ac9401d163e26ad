package fusion

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"time"

	"github.com/gateguard/gateguard/device/thermal"
)

// FrameReader reads the next frame of both cameras: the visible frame as a
// grey image and the thermal frame into tf. The grey image may be reused by
// the next call.
type FrameReader func(ctx context.Context, tf *thermal.Frame) (*image.Gray, error)

// CollectOptions configures CollectPairs.
type CollectOptions struct {
	// Positions is how many target positions are taken.
	Positions int
	// Steady is how many consecutive agreeing detections a position needs.
	Steady int
	// MinContrastC is how far, in °C, the target must be above ambient.
	MinContrastC float64
	// Timeout bounds each position.
	Timeout time.Duration
	// Exclude is a thermal region ignored when looking for the target (the
	// blackbody).
	Exclude image.Rectangle
	// Show puts the target at position i (the simulator) or asks the
	// operator to (real cameras).
	Show func(i int) error
	// Far reports whether a visible point is far enough from the pairs
	// taken; nil takes any.
	Far func(p Point, taken []Pair) bool
	// Out receives one line per position taken; nil discards them.
	Out io.Writer
}

// FarEnough wants each new position at least a tenth of the visible frame's
// width from the others, so that the operator spreads them out.
func FarEnough(size image.Point) func(Point, []Pair) bool {
	lim := float64(size.X) / 10
	return func(p Point, taken []Pair) bool {
		for _, q := range taken {
			if math.Hypot(p.X-q.Visible.X, p.Y-q.Visible.Y) < lim {
				return false
			}
		}
		return true
	}
}

// Steadiness limits: consecutive detections of one position agree within
// these many pixels, or the target is still moving.
const (
	steadyVisiblePx = 2
	steadyThermalPx = 0.3
)

// CollectPairs finds the calibration target (FindDarkDisc, FindHotSpot) in
// both cameras at each position: it must be found in o.Steady consecutive
// frame pairs that agree (within 2 visible and 0.3 thermal pixels) and far
// enough from the positions taken; the pair is the mean of those
// detections. It returns the pairs and the thermal frame size, or an error
// naming the position when the target is not found steadily within
// o.Timeout, or when ctx ends.
func CollectPairs(ctx context.Context, read FrameReader, o CollectOptions) ([]Pair, image.Point, error) {
	if o.Positions < 1 || o.Steady < 1 || o.Show == nil {
		return nil, image.Point{}, fmt.Errorf("fusion: collect: %d positions, %d steady, show set %v", o.Positions, o.Steady, o.Show != nil)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	var tf thermal.Frame
	var pairs []Pair
	for i := range o.Positions {
		if err := o.Show(i); err != nil {
			return nil, image.Point{}, err
		}
		p, err := steadyPair(ctx, read, &tf, pairs, o)
		if err != nil {
			return nil, image.Point{}, fmt.Errorf("fusion: calibrate: position %d: %w", i+1, err)
		}
		pairs = append(pairs, p)
		fmt.Fprintf(o.Out, "position %d: visible (%.1f, %.1f) → thermal (%.2f, %.2f)\n",
			i+1, p.Visible.X, p.Visible.Y, p.Thermal.X, p.Thermal.Y)
	}
	return pairs, image.Pt(tf.W, tf.H), nil
}

// steadyPair reads frames until o.Steady consecutive detections agree, and
// returns their mean.
func steadyPair(ctx context.Context, read FrameReader, tf *thermal.Frame, taken []Pair, o CollectOptions) (Pair, error) {
	deadline := time.Now().Add(o.Timeout)
	var run []Pair
	var lastErr error
	for len(run) < o.Steady {
		if err := ctx.Err(); err != nil {
			return Pair{}, err
		}
		if time.Now().After(deadline) {
			return Pair{}, fmt.Errorf("target not found steadily within %v: %w", o.Timeout, lastErr)
		}
		g, err := read(ctx, tf)
		if err != nil {
			return Pair{}, fmt.Errorf("read: %w", err)
		}
		p, err := detectPair(g, tf, o)
		if err == nil && o.Far != nil && !o.Far(p.Visible, taken) {
			err = errors.New("too close to a position already taken: move the target elsewhere")
		}
		if err != nil {
			lastErr, run = err, run[:0]
			continue
		}
		if len(run) > 0 {
			q := run[len(run)-1]
			if math.Hypot(p.Visible.X-q.Visible.X, p.Visible.Y-q.Visible.Y) > steadyVisiblePx ||
				math.Hypot(p.Thermal.X-q.Thermal.X, p.Thermal.Y-q.Thermal.Y) > steadyThermalPx {
				run = run[:0] // still moving
			}
		}
		run = append(run, p)
	}
	var mean Pair
	for _, p := range run {
		n := float64(len(run))
		mean.Visible.X += p.Visible.X / n
		mean.Visible.Y += p.Visible.Y / n
		mean.Thermal.X += p.Thermal.X / n
		mean.Thermal.Y += p.Thermal.Y / n
	}
	return mean, nil
}

// detectPair finds the target in one visible and one thermal frame.
func detectPair(g *image.Gray, tf *thermal.Frame, o CollectOptions) (Pair, error) {
	v, err := FindDarkDisc(g)
	if err != nil {
		return Pair{}, fmt.Errorf("visible: %w", err)
	}
	t, err := FindHotSpot(tf, o.MinContrastC, o.Exclude)
	if err != nil {
		return Pair{}, fmt.Errorf("thermal: %w", err)
	}
	return Pair{Visible: v, Thermal: t}, nil
}
