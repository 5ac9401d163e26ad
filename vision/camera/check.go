package camera

import (
	"context"
	"fmt"

	"gocv.io/x/gocv"
)

// Reader reads the next frame into m: a Capture, a Live camera or the
// simulated camera.
type Reader interface {
	Read(ctx context.Context, m *gocv.Mat) error
}

// CheckFrames reads n frames from r and checks that each is width×height
// pixels. It is for installation checks (gateguard selftest): a camera that
// opens but delivers another size than the config asks for makes every
// face position wrong in the thermal image.
func CheckFrames(ctx context.Context, r Reader, width, height, n int) error {
	m := gocv.NewMat()
	defer m.Close()
	for i := range n {
		if err := r.Read(ctx, &m); err != nil {
			return fmt.Errorf("camera: frame %d of %d: %w", i+1, n, err)
		}
		if m.Empty() {
			return fmt.Errorf("camera: frame %d of %d is empty", i+1, n)
		}
		if m.Cols() != width || m.Rows() != height {
			return fmt.Errorf("camera: frame %d is %dx%d, the config asks for %dx%d", i+1, m.Cols(), m.Rows(), width, height)
		}
	}
	return nil
}
