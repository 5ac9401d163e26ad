package qr

import (
	"image"
	"image/color"
	"slices"
	"testing"

	"gocv.io/x/gocv"
)

// scene composes a 640×480 frame: the face photo on the left and, unless
// code is false, the test code on a white card on the right; damage paints
// a grey bar across the code's middle rows (its finders stay whole), which
// no strategy reads through.
func scene(t testing.TB, code, damage bool) gocv.Mat {
	t.Helper()
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), 480, 640, gocv.MatTypeCV8UC3)
	face := gocv.IMRead(shared+"faces/face-detect.jpg", gocv.IMReadColor)
	defer face.Close()
	if face.Empty() {
		t.Fatal("cannot read the face photo")
	}
	paste(frame, face, image.Rect(0, 80, 400, 400))
	gocv.Rectangle(&frame, image.Rect(420, 120, 620, 320), color.RGBA{255, 255, 255, 0}, -1)
	if code {
		c := gocv.IMRead(shared+"qr-gocv/qrcode.png", gocv.IMReadColor)
		defer c.Close()
		if c.Empty() {
			t.Fatal("cannot read the code")
		}
		paste(frame, c, image.Rect(430, 130, 610, 310))
	}
	if damage {
		gocv.Rectangle(&frame, image.Rect(430, 200, 610, 240), color.RGBA{128, 128, 128, 0}, -1)
	}
	return frame
}

func paste(dst, src gocv.Mat, r image.Rectangle) {
	scaled := gocv.NewMat()
	defer scaled.Close()
	gocv.Resize(src, &scaled, r.Size(), 0, 0, gocv.InterpolationArea)
	roi := dst.Region(r)
	defer roi.Close()
	scaled.CopyTo(&roi)
}

func TestFinders(t *testing.T) {
	codeBox := image.Rect(430, 130, 610, 310)
	tests := []struct {
		name         string
		code, damage bool
		hide         bool // paint over the code's bottom-left finder
		want         bool // code-like structure reported, around the code
	}{
		{"face, no code", false, false, false, false},
		{"face and code", true, false, false, true},
		{"face and damaged code", true, true, false, true},
		{"face and code with a finder lost", true, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := scene(t, tt.code, tt.damage)
			defer m.Close()
			if tt.hide {
				gocv.Rectangle(&m, image.Rect(430, 250, 490, 310), color.RGBA{255, 255, 255, 0}, -1)
			}
			grey, err := darkest(m)
			if err != nil {
				t.Fatal(err)
			}
			defer grey.Close()
			rs, err := finders(grey)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want {
				if len(rs) != 0 {
					t.Errorf("regions %+v in a frame with no code", rs)
				}
				return
			}
			if len(rs) == 0 {
				t.Fatal("no region")
			}
			for _, r := range rs {
				// Around the code: overlapping it, not far beyond it.
				if !r.box.Overlaps(codeBox) || !r.box.In(codeBox.Inset(-codeBox.Dx())) {
					t.Errorf("region %v, the code is at %v", r.box, codeBox)
				}
			}
			if tt.hide {
				// The two finders left are a level pair along the code's
				// top: the code is in the square above or below them, so
				// the region is no wider than the code and its quiet zone
				// (reaching the pair's distance all round made it 349
				// pixels wide here).
				for _, r := range rs {
					if r.triple || !codeBox.In(r.box) || r.box.Dx() > codeBox.Dx()*13/10 {
						t.Errorf("region %+v: want a pair's region holding the code %v, at most %d wide",
							r, codeBox, codeBox.Dx()*13/10)
					}
				}
				return
			}
			if !rs[0].triple {
				t.Errorf("first region %+v: want the three finders as a triple", rs[0])
			}
		})
	}
	t.Run("grey blank and tiny", func(t *testing.T) {
		for _, sz := range []image.Point{{640, 480}, {20, 20}} {
			m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 0, 0, 0), sz.Y, sz.X, gocv.MatTypeCV8U)
			rs, err := finders(m)
			m.Close()
			if err != nil || len(rs) != 0 {
				t.Errorf("%v: regions %v, %v", sz, rs, err)
			}
		}
	})
}

// traced records the strategies a decoder runs.
func traced(d *Decoder) *[]string {
	var got []string
	d.trace = func(method string, _ image.Rectangle) { got = append(got, method) }
	return &got
}

// TestPictureCostFollowsContent: a picture with nothing code-like gets the
// quick pass only; a readable one stops at the quick pass; an unreadable
// code gets every slow strategy, cheapest first, cropped to the code.
func TestPictureCostFollowsContent(t *testing.T) {
	d := newDecoder(t)
	tests := []struct {
		name         string
		code, damage bool
		wantRun      []string
		wantCodes    int
	}{
		{"no code", false, false, []string{MethodZXing}, 0},
		{"readable code", true, false, []string{MethodZXing}, 1},
		{"damaged code", true, true,
			[]string{MethodZXing, MethodZXingHard, MethodLuminance, MethodCLAHE, MethodScaled, MethodLocated}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := scene(t, tt.code, tt.damage)
			defer m.Close()
			got := traced(d)
			var boxes []image.Rectangle
			d.trace = func(method string, box image.Rectangle) {
				*got = append(*got, method)
				boxes = append(boxes, box)
			}
			codes, err := d.Decode(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != tt.wantCodes {
				t.Errorf("codes %+v, want %d", codes, tt.wantCodes)
			}
			if !slices.Equal(*got, tt.wantRun) {
				t.Errorf("ran %v, want %v", *got, tt.wantRun)
			}
			for i, b := range boxes[1:] {
				if b.Dx()*b.Dy() >= 640*480/2 {
					t.Errorf("%s on %v: not cropped to the code", (*got)[i+1], b)
				}
			}
		})
	}
}

// TestLiveSpreadsSlowStrategies: a live decoder gives each frame of an
// unreadable code one slow strategy, the next in turn, starts the turn over
// once the code has gone, and gives frames with nothing code-like the quick
// pass only on one frame in probeEvery.
func TestLiveSpreadsSlowStrategies(t *testing.T) {
	d, err := NewWithOpts(Opts{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	damaged := scene(t, true, true)
	defer damaged.Close()
	empty := scene(t, false, false)
	defer empty.Close()
	readable := scene(t, true, false)
	defer readable.Close()
	got := traced(d)
	step := func(m gocv.Mat, want ...string) {
		t.Helper()
		*got = nil
		codes, err := d.Decode(m)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(*got, want) {
			t.Errorf("frame %d: ran %v, want %v", d.pres.frames, *got, want)
		}
		_ = codes
	}
	// Frames 1–6: the damaged code, the slow strategies in turn.
	step(damaged, MethodZXing, MethodZXingHard)
	step(damaged, MethodZXing, MethodLuminance)
	step(damaged, MethodZXing, MethodCLAHE)
	step(damaged, MethodZXing, MethodScaled)
	step(damaged, MethodZXing, MethodLocated)
	step(damaged, MethodZXing, MethodZXingHard)
	// Frames 7–10: gone; the quick pass on frame 8 only (probeEvery 4).
	step(empty)
	step(empty, MethodZXing)
	step(empty)
	step(empty)
	// Shown again: the turn starts over.
	step(damaged, MethodZXing, MethodZXingHard)
	// A readable code: the quick pass reads it, and the turn starts over.
	step(readable, MethodZXing)
	step(damaged, MethodZXing, MethodZXingHard)
}

// TestAim: the slow strategies look where the strongest evidence is: a
// triple of finders or a symbol zxing-cpp located, when there is one (a
// pair elsewhere is left out: it would widen every crop to both), else the
// pairs, with a quiet zone of a few modules (a pair's region already holds
// both squares its code can be in); nothing code-like, nowhere.
func TestAim(t *testing.T) {
	triple := region{box: image.Rect(300, 200, 380, 280), module: 3, triple: true}
	pair := region{box: image.Rect(20, 20, 140, 100), module: 3}
	cand := quad{300, 200, 380, 200, 380, 280, 300, 280}
	tests := []struct {
		name       string
		rs         []region
		cands      []quad
		wantOK     bool
		wantStrong bool
		holds      image.Rectangle // the target holds this
		misses     image.Rectangle // and does not reach into this
	}{
		{"nothing", nil, nil, false, false, image.Rectangle{}, image.Rectangle{}},
		{"triple", []region{triple}, nil, true, true, triple.box, image.Rectangle{}},
		{"triple and a pair elsewhere", []region{pair, triple}, nil, true, true, triple.box, pair.box},
		{"located symbol and a pair elsewhere", []region{pair}, []quad{cand}, true, true, triple.box, pair.box},
		{"pair only", []region{pair}, nil, true, false, pair.box, image.Rect(200, 200, 640, 480)},
	}
	grey := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8U)
	defer grey.Close()
	f := &frame{img: grey, grey: grey}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := aim(f, tt.rs, tt.cands)
			if ok != tt.wantOK || got.strong != tt.wantStrong {
				t.Fatalf("target %+v ok %v, want ok %v strong %v", got, ok, tt.wantOK, tt.wantStrong)
			}
			if !ok {
				return
			}
			if !tt.holds.In(got.box) {
				t.Errorf("target %v does not hold %v", got.box, tt.holds)
			}
			if !tt.misses.Empty() && got.box.Overlaps(tt.misses) {
				t.Errorf("target %v reaches into %v", got.box, tt.misses)
			}
		})
	}
}

// drawFinder paints a finder pattern of module m pixels, top left at p,
// on a light quiet zone.
func drawFinder(img *gocv.Mat, p image.Point, m int) {
	sq := func(off, n int, c color.RGBA) {
		gocv.Rectangle(img, image.Rect(p.X+off*m, p.Y+off*m, p.X+(off+n)*m, p.Y+(off+n)*m), c, -1)
	}
	sq(-2, 11, color.RGBA{255, 255, 255, 0})
	sq(0, 7, color.RGBA{0, 0, 0, 0})
	sq(1, 5, color.RGBA{255, 255, 255, 0})
	sq(2, 3, color.RGBA{0, 0, 0, 0})
}

// TestPictureLooksWhereTheCodeIs: with an unreadable code and, away from it,
// two finder-like marks (a pair, weaker evidence than the code's three
// finders), every slow strategy runs first on a crop around the code that
// leaves the marks out, and only then, the code unread, those for a pair on
// a crop around the marks that leaves the code out.
func TestPictureLooksWhereTheCodeIs(t *testing.T) {
	d := newDecoder(t)
	m := scene(t, true, true)
	defer m.Close()
	decoy := image.Rect(20, 4, 140, 36)
	drawFinder(&m, image.Pt(26, 10), 3)
	drawFinder(&m, image.Pt(113, 10), 3)
	grey, err := darkest(m)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := finders(grey)
	grey.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rs, func(r region) bool { return !r.triple && r.box.Overlaps(decoy) }) {
		t.Fatalf("the marks at %v are not seen as a pair: regions %+v", decoy, rs)
	}
	code := image.Rect(430, 130, 610, 310)
	var ran []string
	d.trace = func(method string, box image.Rectangle) {
		ran = append(ran, method)
		switch n := len(ran); {
		case n == 1:
		case n <= 6 && box.Overlaps(decoy):
			t.Errorf("%s on %v: reaches the marks at %v", method, box, decoy)
		case n > 6 && (box.Overlaps(code) || !decoy.In(box)):
			t.Errorf("%s on %v: want the marks at %v without the code at %v", method, box, decoy, code)
		}
	}
	if _, err := d.Decode(m); err != nil {
		t.Fatal(err)
	}
	want := []string{MethodZXing, MethodZXingHard, MethodLuminance, MethodCLAHE, MethodScaled, MethodLocated,
		MethodZXingHard, MethodLuminance, MethodCLAHE, MethodScaled}
	if !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
}
