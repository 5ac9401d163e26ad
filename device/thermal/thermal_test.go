package thermal

import (
	"errors"
	"math"
	"testing"
)

func TestCheck(t *testing.T) {
	ok := func() *Frame { f := &Frame{}; f.Resize(4, 3); return f }
	tests := []struct {
		name  string
		mod   func(f *Frame)
		isBad bool
	}{
		{"good", func(*Frame) {}, false},
		{"NaN", func(f *Frame) { f.C[3] = float32(math.NaN()) }, true},
		{"+Inf", func(f *Frame) { f.C[0] = float32(math.Inf(1)) }, true},
		{"too hot", func(f *Frame) { f.C[11] = 400 }, true},
		{"too cold", func(f *Frame) { f.C[1] = -41 }, true},
		{"short", func(f *Frame) { f.C = f.C[:5] }, true},
		{"zero size", func(f *Frame) { f.W = 0 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok()
			tt.mod(f)
			if err := f.Check(); errors.Is(err, ErrBadFrame) != tt.isBad {
				t.Errorf("Check() = %v", err)
			}
		})
	}
}

func TestCopyFromIsDeep(t *testing.T) {
	a := &Frame{}
	a.Resize(2, 2)
	a.C[0] = 1
	var b Frame
	b.CopyFrom(a)
	a.C[0] = 2
	if b.C[0] != 1 || b.W != 2 {
		t.Errorf("copy shares storage: %+v", b)
	}
}
