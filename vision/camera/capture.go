// Package camera opens the face camera through OpenCV's VideoCapture (loaded
// on first use, see vision/videoio): a V4L2
// device (an index or /dev/videoN; size, rate and MJPG requested), an RTSP URL
// (FFmpeg over TCP), a video file or an image sequence (a printf pattern such
// as frames/%04d.png, for replay). Live wraps a source in a capture goroutine
// that keeps only the latest frame, detects a stalled or lost camera and
// reopens it with backoff.
package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/videoio"
)

// Capture is an open VideoCapture source.
type Capture struct {
	name string
	vc   *videoio.Capture
}

// Open opens source, requesting the size and rate for a device.
func Open(source string, width, height, fps int) (*Capture, error) {
	var (
		vc  *videoio.Capture
		err error
	)
	switch {
	case strings.HasPrefix(source, "rtsp://") || strings.HasPrefix(source, "rtsps://"):
		if os.Getenv("OPENCV_FFMPEG_CAPTURE_OPTIONS") == "" {
			os.Setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")
		}
		vc, err = videoio.OpenFile(source, gocv.VideoCaptureFFmpeg)
	case isDevice(source):
		id := source
		if n, ok := strings.CutPrefix(source, "/dev/video"); ok {
			id = n
		}
		idx, _ := strconv.Atoi(id)
		vc, err = videoio.OpenDevice(idx, gocv.VideoCaptureV4L2)
		if err == nil {
			vc.Set(gocv.VideoCaptureFOURCC, videoio.FourCC("MJPG"))
			vc.Set(gocv.VideoCaptureFrameWidth, float64(width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(height))
			vc.Set(gocv.VideoCaptureFPS, float64(fps))
		}
	default:
		if _, serr := os.Stat(source); serr != nil && !strings.Contains(source, "%") {
			return nil, fmt.Errorf("camera: %s: %w", source, serr)
		}
		vc, err = videoio.OpenFile(source, gocv.VideoCaptureAny)
	}
	if err != nil {
		return nil, fmt.Errorf("camera: open %s: %w", source, err)
	}
	if !vc.IsOpened() {
		vc.Close()
		return nil, fmt.Errorf("camera: open %s: not opened", source)
	}
	return &Capture{name: source, vc: vc}, nil
}

func isDevice(s string) bool {
	if strings.HasPrefix(s, "/dev/video") {
		return true
	}
	_, err := strconv.Atoi(s)
	return err == nil
}

// String names the source.
func (c *Capture) String() string { return c.name }

// Read reads the next frame. It blocks in OpenCV; ctx is checked before.
func (c *Capture) Read(ctx context.Context, m *gocv.Mat) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.vc.Read(m) || m.Empty() {
		return errors.New("camera: no frame")
	}
	return nil
}

// Grab reads the next frame into m; false when the source failed or ended.
// It makes Capture a Grabber for Live.
func (c *Capture) Grab(m *gocv.Mat) bool { return c.vc.Read(m) && !m.Empty() }

// OpenLive returns a Live camera on source (see Open) that reopens it after
// failures and reports a stall after stall without a frame. Start it with
// Live.Start.
func OpenLive(source string, width, height, fps int, stall time.Duration, log *slog.Logger) (*Live, error) {
	return NewLive(LiveOpts{
		Name:         source,
		Open:         func() (Grabber, error) { return Open(source, width, height, fps) },
		StallTimeout: stall,
		Retry:        200 * time.Millisecond,
		MaxRetry:     10 * time.Second,
		Log:          log,
	})
}

// Close releases the device.
func (c *Capture) Close() error { return c.vc.Close() }
