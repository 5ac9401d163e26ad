package vision

import (
	"image"
	"slices"
	"testing"
)

func TestCodeTracker(t *testing.T) {
	a, b := Code{Text: "A", Raw: []byte("A")}, Code{Text: "B"}
	tests := []struct {
		name   string
		gap    uint64
		frames [][]Code
		want   [][]bool // FirstSeen per code per frame
	}{
		{"one code held up", 0, [][]Code{{a}, {a}, {a}}, [][]bool{{true}, {false}, {false}}},
		{"taken away and shown again", 0, [][]Code{{a}, {}, {a}}, [][]bool{{true}, nil, {true}}},
		{"missed once within gap", 1, [][]Code{{a}, {}, {a}}, [][]bool{{true}, nil, {false}}},
		{"missed twice beyond gap", 1, [][]Code{{a}, {}, {}, {a}}, [][]bool{{true}, nil, nil, {true}}},
		{"two codes", 0, [][]Code{{a}, {a, b}, {b}}, [][]bool{{true}, {false, true}, {false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := CodeTracker{Gap: tt.gap}
			for i, f := range tt.frames {
				codes := slices.Clone(f)
				tr.Mark(uint64(i+1), codes)
				var got []bool
				for _, c := range codes {
					got = append(got, c.FirstSeen)
				}
				if !slices.Equal(got, tt.want[i]) {
					t.Errorf("frame %d: first seen %v, want %v", i+1, got, tt.want[i])
				}
			}
		})
	}
}

func TestAssess(t *testing.T) {
	frontal := Face{Box: rect(100, 100, 200, 220), HasLandmarks: true, Score: 0.95, Sharpness: 200,
		Landmarks: [5]image.Point{image.Pt(130, 140), image.Pt(170, 140), image.Pt(150, 165), image.Pt(135, 190), image.Pt(165, 190)}}
	turned := frontal
	turned.Landmarks[NoseTip] = image.Pt(168, 165) // nose over the left eye
	small := frontal
	small.Landmarks[LeftEye] = image.Pt(145, 140)
	blurred := frontal
	blurred.Sharpness = 3
	tests := []struct {
		name string
		f    Face
		good bool
	}{
		{"frontal", frontal, true},
		{"turned", turned, false},
		{"eyes too close", small, false},
		{"blurred", blurred, false},
		{"haar box only, wide", Face{Box: rect(0, 0, 120, 120), Score: 1, Sharpness: 100}, true},
		{"haar box only, small", Face{Box: rect(0, 0, 40, 40), Score: 1, Sharpness: 100}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Assess(tt.f, DefaultQuality)
			if got.Quality.Good != tt.good || !got.Quality.Assessed {
				t.Errorf("quality %+v (yaw %.0f, eyes %.0f), want good=%v", got.Quality, got.YawDeg, got.EyeDistance, tt.good)
			}
			if !tt.good && len(got.Quality.Reasons) == 0 {
				t.Error("rejected without a reason")
			}
		})
	}
	// The pose of a turned face: nose 18 px off-centre with eyes 40 apart,
	// atan(0.9 / 0.65) = 54°.
	if _, yaw, roll, ok := Pose(turned); !ok || yaw < 50 || yaw > 58 || roll != 0 {
		t.Errorf("turned face pose: yaw %.1f roll %.1f", yaw, roll)
	}
}

func rect(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1, y1) }

// FuzzAssess runs the quality verdict on arbitrary landmarks: it always
// gives a verdict, with a reason when the face is not good.
func FuzzAssess(f *testing.F) {
	f.Add(130, 140, 170, 140, 150, 165, 200.0)
	f.Add(0, 0, 0, 0, 0, 0, -1.0)
	f.Fuzz(func(t *testing.T, rx, ry, lx, ly, nx, ny int, sharp float64) {
		face := Face{Box: image.Rect(0, 0, 300, 300), HasLandmarks: true, Score: 0.9, Sharpness: sharp,
			Landmarks: [5]image.Point{image.Pt(rx, ry), image.Pt(lx, ly), image.Pt(nx, ny)}}
		got := Assess(face, DefaultQuality)
		if !got.Quality.Assessed || (!got.Quality.Good && len(got.Quality.Reasons) == 0) {
			t.Fatalf("verdict %+v", got.Quality)
		}
	})
}

func TestFollowAndNearest(t *testing.T) {
	a := Face{Box: image.Rect(100, 40, 260, 200)}
	b := Face{Box: image.Rect(380, 40, 600, 260)}
	if o := Overlap(a.Box, a.Box); o != 1 {
		t.Errorf("self overlap %v", o)
	}
	if o := Overlap(a.Box, b.Box); o != 0 {
		t.Errorf("disjoint overlap %v", o)
	}
	tests := []struct {
		name  string
		box   image.Rectangle
		faces []Face
		want  int
	}{
		{"moved a little", a.Box.Add(image.Pt(8, 5)), []Face{b, {Box: a.Box.Add(image.Pt(8, 5))}}, 1},
		{"gone, another elsewhere", a.Box, []Face{b}, -1},
		{"no faces", a.Box, nil, -1},
		{"half overlapping is not enough", a.Box, []Face{{Box: a.Box.Add(image.Pt(120, 0))}}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := Follow(a.Box, tt.faces)
			if i != tt.want || ok != (tt.want >= 0) {
				t.Errorf("Follow = %d, %v; want %d", i, ok, tt.want)
			}
		})
	}
	code := Code{Corners: [4]image.Point{{150, 230}, {210, 230}, {210, 290}, {150, 290}}}
	if i, ok := NearestToCode(code, []Face{b, a}); !ok || i != 1 {
		t.Errorf("NearestToCode = %d, %v; want the face above the code", i, ok)
	}
	if _, ok := NearestToCode(code, nil); ok {
		t.Error("NearestToCode found a face in none")
	}
	small := Face{Box: image.Rect(0, 0, 60, 60)}
	eyes := Face{HasLandmarks: true, Landmarks: [5]image.Point{{100, 100}, {140, 100}, {120, 120}, {105, 140}, {135, 140}}}
	for _, tt := range []struct {
		f    Face
		min  float64
		want bool
	}{{small, 30, false}, {small, 24, true}, {small, 0, true}, {eyes, 40, true}, {eyes, 41, false}} {
		if got := InZone(tt.f, tt.min); got != tt.want {
			t.Errorf("InZone(%v, %v) = %v", tt.f.Box, tt.min, got)
		}
	}
}
