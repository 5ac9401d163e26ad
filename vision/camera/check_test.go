package camera

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// TestCheckFrames replays a recorded 64×48 sequence: it passes when the
// config asks for that size, and names both sizes when it asks for another;
// a sequence that ends names the missing frame.
func TestCheckFrames(t *testing.T) {
	dir := t.TempDir()
	for i := range 3 {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), 48, 64, gocv.MatTypeCV8UC3)
		ok := gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("%03d.png", i)), m)
		m.Close()
		if !ok {
			t.Fatal("cannot write frame")
		}
	}
	for _, tt := range []struct {
		name    string
		w, h, n int
		want    string // "" for no error
	}{
		{"configured size", 64, 48, 3, ""},
		{"other size", 640, 480, 3, "frame 1 is 64x48, the config asks for 640x480"},
		{"sequence ends", 64, 48, 4, "frame 4 of 4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(filepath.Join(dir, "%03d.png"), 640, 480, 15)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = CheckFrames(context.Background(), c, tt.w, tt.h, tt.n)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("CheckFrames: %v, want %q", err, tt.want)
			}
		})
	}
}
