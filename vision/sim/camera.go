// Package sim is a simulated face camera for scenarios and tests: it renders
// frames of a scene (a face photo and a QR code image on a background) at a
// fixed rate, so the real detectors run on them exactly as on a camera.
package sim

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/imagefile"
)

// Camera renders the current scene. Show and Clear change the scene; Read
// returns frames at the configured rate.
type Camera struct {
	size   image.Point
	period time.Duration
	ticker *time.Ticker

	mu    sync.Mutex // guards the fields below
	scene gocv.Mat
	fail  error
}

// New returns a camera of the given frame size and rate showing an empty scene.
func New(width, height, fps int) (*Camera, error) {
	if width < 64 || height < 64 || fps <= 0 {
		return nil, fmt.Errorf("sim: camera %dx%d at %d fps is not usable", width, height, fps)
	}
	c := &Camera{size: image.Pt(width, height), period: time.Second / time.Duration(fps)}
	c.scene = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), height, width, gocv.MatTypeCV8UC3)
	c.ticker = time.NewTicker(c.period)
	return c, nil
}

// String names the camera.
func (c *Camera) String() string { return "simulated camera" }

// Close frees the scene.
func (c *Camera) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ticker.Stop()
	return c.scene.Close()
}

// Size returns the frame size.
func (c *Camera) Size() image.Point { return c.size }

// Fail makes every Read return err until Fail(nil): a camera fault.
func (c *Camera) Fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}

// Read waits for the next frame time and copies the scene into m.
func (c *Camera) Read(ctx context.Context, m *gocv.Mat) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ticker.C:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.scene.CopyTo(m)
	return nil
}

// Clear shows an empty background.
func (c *Camera) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scene.SetTo(gocv.NewScalar(90, 90, 90, 0))
}

// Show renders a scene: the face photo (if any) scaled into the left part of
// the frame, and the QR image (if any) on a white card in the right part.
// It returns the rectangle the face photo covers, for the thermal simulator
// to place body heat behind it; empty when there is no face.
func (c *Camera) Show(facePath string, code image.Image) (image.Rectangle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scene.SetTo(gocv.NewScalar(90, 90, 90, 0))
	var faceRect image.Rectangle
	if facePath != "" {
		img, err := readFace(facePath)
		if err != nil {
			return image.Rectangle{}, err
		}
		defer img.Close()
		// The face photo fills the left 60% of the frame, keeping its aspect.
		w := c.size.X * 6 / 10
		h := w * img.Rows() / img.Cols()
		if h > c.size.Y {
			h = c.size.Y
			w = h * img.Cols() / img.Rows()
		}
		faceRect = image.Rect(0, (c.size.Y-h)/2, w, (c.size.Y-h)/2+h)
		if err := paste(&c.scene, img, faceRect); err != nil {
			return image.Rectangle{}, err
		}
	}
	if code != nil {
		q, err := gocv.ImageToMatRGB(code)
		if err != nil {
			return image.Rectangle{}, fmt.Errorf("sim: qr image: %w", err)
		}
		defer q.Close()
		side := min(c.size.X*35/100, c.size.Y*7/10)
		x0 := c.size.X*62/100 + (c.size.X*38/100-side)/2
		y0 := (c.size.Y - side) / 2
		card := image.Rect(x0-10, y0-10, x0+side+10, y0+side+10)
		gocv.Rectangle(&c.scene, card, color.RGBA{255, 255, 255, 0}, -1)
		if err := paste(&c.scene, q, image.Rect(x0, y0, x0+side, y0+side)); err != nil {
			return image.Rectangle{}, err
		}
	}
	return faceRect, nil
}

// paste scales src into dst's region r.
func paste(dst *gocv.Mat, src gocv.Mat, r image.Rectangle) error {
	if r.Empty() || !r.In(image.Rect(0, 0, dst.Cols(), dst.Rows())) {
		return errors.New("sim: region outside the frame")
	}
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, r.Size(), 0, 0, gocv.InterpolationArea)
	roi := dst.Region(r)
	defer roi.Close()
	scaled.CopyTo(&roi)
	return nil
}

// readFace decodes a face photo into a BGR Mat with Go's decoders (see
// vision/imagefile: the daemon does not link OpenCV's imgcodecs).
func readFace(path string) (gocv.Mat, error) {
	m, err := imagefile.Read(path)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("sim: face image: %w", err)
	}
	return m, nil
}
