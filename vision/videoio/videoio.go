// Package videoio is the face and thermal cameras' way into OpenCV's
// cv::VideoCapture (V4L2 devices, RTSP and video files through FFmpeg, image
// sequences), with libopencv_videoio loaded only when a capture is first
// opened.
//
// gocv's VideoCapture links libopencv_videoio into the binary, and on Debian
// that library needs about 220 others (FFmpeg, GStreamer, and through
// imgcodecs GDAL, GDCM, poppler, proj…): loading and relocating them costs the
// daemon ~45 MB of resident memory before it reads a single frame, on a gate
// whose camera may be simulated or whose thermal camera is on I2C. This
// package's small C++ bridge uses the class only through its header (its
// members are virtual) and takes the one constructor it needs with dlsym, so
// nothing of videoio is loaded until Open is called.
package videoio

/*
#cgo CPPFLAGS: -I/usr/include/opencv4
#cgo LDFLAGS: -ldl
#cgo CXXFLAGS: -std=c++11
#include <stdlib.h>
#include "videoio.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"gocv.io/x/gocv"
)

// ErrUnavailable reports that libopencv_videoio could not be loaded.
var ErrUnavailable = errors.New("videoio: OpenCV's videoio library is not available")

// Capture is an open cv::VideoCapture. Its methods must not be called
// concurrently; Close may be called once.
type Capture struct {
	mu sync.Mutex
	c  C.GGCapture
}

// Load loads libopencv_videoio if it is not loaded yet. Open calls it.
func Load() error {
	if msg := C.GGVideoio_Load(); msg != nil {
		return fmt.Errorf("%w: %s", ErrUnavailable, C.GoString(msg))
	}
	return nil
}

// Loaded reports whether this package has loaded libopencv_videoio.
func Loaded() bool { return C.GGVideoio_Loaded() != 0 }

// OpenFile opens a video file, stream URL or image-sequence pattern (a
// printf pattern such as frames/%04d.png) with the given backend
// (gocv.VideoCaptureAny lets OpenCV choose).
func OpenFile(name string, api gocv.VideoCaptureAPI) (*Capture, error) {
	c, err := newCapture()
	if err != nil {
		return nil, err
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	var cerr *C.char
	if C.GGCapture_OpenFile(c.c, cs, C.int(api), &cerr) == 0 {
		err := lastError("open "+name, cerr)
		c.Close()
		return nil, err
	}
	return c, nil
}

// OpenDevice opens the video device with this index (/dev/videoN).
func OpenDevice(index int, api gocv.VideoCaptureAPI) (*Capture, error) {
	c, err := newCapture()
	if err != nil {
		return nil, err
	}
	var cerr *C.char
	if C.GGCapture_OpenDevice(c.c, C.int(index), C.int(api), &cerr) == 0 {
		err := lastError(fmt.Sprintf("open device %d", index), cerr)
		c.Close()
		return nil, err
	}
	return c, nil
}

func newCapture() (*Capture, error) {
	if err := Load(); err != nil {
		return nil, err
	}
	var cerr *C.char
	c := C.GGCapture_New(&cerr)
	if c == nil {
		return nil, lastError("new capture", cerr)
	}
	return &Capture{c: c}, nil
}

// lastError is the failed call's OpenCV exception e, or a plain "not
// opened" when it threw none.
func lastError(what string, e *C.char) error {
	if e != nil {
		defer C.free(unsafe.Pointer(e))
		return fmt.Errorf("videoio: %s: %s", what, C.GoString(e))
	}
	return fmt.Errorf("videoio: %s: not opened", what)
}

// IsOpened reports whether the capture is open.
func (c *Capture) IsOpened() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c != nil && C.GGCapture_IsOpened(c.c) != 0
}

// Set sets a property (gocv's CAP_PROP constants); false when the backend
// refused it.
func (c *Capture) Set(p gocv.VideoCaptureProperties, v float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c != nil && C.GGCapture_Set(c.c, C.int(p), C.double(v)) != 0
}

// Get reads a property; 0 when the backend does not report it.
func (c *Capture) Get(p gocv.VideoCaptureProperties) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return 0
	}
	return float64(C.GGCapture_Get(c.c, C.int(p)))
}

// Read grabs, decodes and returns the next frame in m; false when the
// source failed or ended.
func (c *Capture) Read(m *gocv.Mat) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return false
	}
	return C.GGCapture_Read(c.c, unsafe.Pointer(m.Ptr())) != 0
}

// Close releases the source.
func (c *Capture) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c != nil {
		C.GGCapture_Close(c.c)
		c.c = nil
	}
	return nil
}

// FourCC packs a four-character code (such as "MJPG" or "Y16 ") for
// gocv.VideoCaptureFOURCC.
func FourCC(code string) float64 {
	if len(code) != 4 {
		return 0
	}
	return float64(uint32(code[0]) | uint32(code[1])<<8 | uint32(code[2])<<16 | uint32(code[3])<<24)
}
