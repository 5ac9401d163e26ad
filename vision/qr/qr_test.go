package qr

import (
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
)

const shared = "../../../shared/testdata/"

func newDecoder(t testing.TB) *Decoder {
	t.Helper()
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func decodeFile(t testing.TB, d *Decoder, file string) ([]vision.Code, image.Point) {
	t.Helper()
	img := gocv.IMRead(file, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		t.Fatalf("cannot read %s", file)
	}
	codes, err := d.Decode(img)
	if err != nil {
		t.Fatal(err)
	}
	return codes, image.Pt(img.Cols(), img.Rows())
}

func TestDecodeFiles(t *testing.T) {
	d := newDecoder(t)
	tests := []struct {
		file string
		want []string
	}{
		{"qr-gocv/qrcode.png", []string{"Hello World!"}},
		{"qr-gocv/multi_qrcodes.png", []string{"foo", "bar"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			codes, size := decodeFile(t, d, shared+tt.file)
			var texts []string
			for _, c := range codes {
				texts = append(texts, c.Text)
				// Corners inside the frame, clockwise, a real quad.
				for _, p := range c.Corners {
					if !p.In(image.Rect(-2, -2, size.X+2, size.Y+2)) {
						t.Errorf("%q: corner %v outside the frame", c.Text, p)
					}
				}
				if area(c.Corners) < 400 {
					t.Errorf("%q: corners %v enclose %.0f px²", c.Text, c.Corners, area(c.Corners))
				}
				if c.Colour != vision.ColourBlack || c.Encoding != EncodingUTF8 {
					t.Errorf("%q: colour %v encoding %q", c.Text, c.Colour, c.Encoding)
				}
			}
			slices.Sort(texts)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(texts, want) {
				t.Errorf("decoded %q, want %q", texts, want)
			}
		})
	}
}

// area is the signed shoelace area of the quad: positive when the corners
// go clockwise in image coordinates (y down).
func area(q [4]image.Point) float64 {
	var s int
	for i := range 4 {
		a, b := q[i], q[(i+1)%4]
		s += a.X*b.Y - b.X*a.Y
	}
	return float64(s) / 2
}

// TestPhoneColours decodes the phone-screen frames and checks each decoded
// code's text and colour against the folder's N.txt and N.colour.
func TestPhoneColours(t *testing.T) {
	d := newDecoder(t)
	files, _ := filepath.Glob(shared + "qr-phone/*.jpg")
	if len(files) == 0 {
		t.Fatal("no qr-phone frames")
	}
	decoded, right := 0, 0
	perColour := map[string][2]int{}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".jpg")
		want, err1 := os.ReadFile(base + ".txt")
		colour, err2 := os.ReadFile(base + ".colour")
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: missing expected text or colour", f)
		}
		wc := strings.TrimSpace(string(colour))
		codes, _ := decodeFile(t, d, f)
		pc := perColour[wc]
		pc[1]++
		for _, c := range codes {
			if c.Text != string(want) {
				t.Errorf("%s: decoded %q, want %q", f, c.Text, want)
				continue
			}
			decoded++
			pc[0]++
			if c.Colour.String() == wc {
				right++
			} else {
				t.Errorf("%s: colour %v, want %s", f, c.Colour, wc)
			}
		}
		perColour[wc] = pc
	}
	t.Logf("qr-phone: %d/%d decoded, %d colours right; per colour (decoded, total): %v", decoded, len(files), right, perColour)
	// zbarimg reads 32 and ZXingReader 37 of these 60 (README).
	if decoded < 45 {
		t.Errorf("decoded %d of %d, want at least 45", decoded, len(files))
	}
}

func TestDecodeDegenerateFrames(t *testing.T) {
	d := newDecoder(t)
	empty := gocv.NewMat()
	defer empty.Close()
	tiny := gocv.NewMatWithSize(5, 5, gocv.MatTypeCV8UC3)
	defer tiny.Close()
	blank := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	noise := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer noise.Close()
	gocv.RandU(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	for name, m := range map[string]gocv.Mat{"empty": empty, "tiny": tiny, "blank": blank, "noise": noise} {
		codes, err := d.Decode(m)
		if err != nil || len(codes) != 0 {
			t.Errorf("%s: %v, %v", name, codes, err)
		}
	}
	huge := gocv.NewMatWithSize(MaxSide+1, 32, gocv.MatTypeCV8UC1)
	defer huge.Close()
	if _, err := d.Decode(huge); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge frame: %v", err)
	}
	float := gocv.NewMatWithSize(64, 64, gocv.MatTypeCV32F)
	defer float.Close()
	if _, err := d.Decode(float); err == nil {
		t.Error("decoded a float image")
	}
	d.Close()
	if _, err := d.Decode(blank); err == nil {
		t.Error("decode after Close succeeded")
	}
}

// TestCorruptImages feeds truncated and garbled image files through the
// decode path a frame from disk takes: OpenCV reports no image, never a
// crash.
func TestCorruptImages(t *testing.T) {
	d := newDecoder(t)
	good, err := os.ReadFile(shared + "qr-gocv/qrcode.png")
	if err != nil {
		t.Fatal(err)
	}
	for name, buf := range map[string][]byte{
		"truncated": good[:len(good)/2],
		"header":    good[:16],
		"garbled":   append(append([]byte{}, good[:64]...), make([]byte, 500)...),
		"text":      []byte("not an image"),
	} {
		codes, err := DecodeBytes(d, buf)
		if len(codes) != 0 {
			t.Errorf("%s: decoded %v", name, codes)
		}
		if name != "truncated" && err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestShiftJISPayload reads a code whose payload is Shift_JIS bytes (no ECI):
// Text is the Japanese text, Raw keeps the bytes as read.
func TestShiftJISPayload(t *testing.T) {
	d := newDecoder(t)
	want, err := os.ReadFile(shared + "qr-zxing/qrcode-2/17.txt")
	if err != nil {
		t.Fatal(err)
	}
	codes, _ := decodeFile(t, d, shared+"qr-zxing/qrcode-2/17.png")
	if len(codes) != 1 {
		t.Fatalf("decoded %d codes, want 1", len(codes))
	}
	c := codes[0]
	if c.Text != string(want) || c.Encoding != EncodingShiftJIS || string(c.Raw) == c.Text || len(c.Raw) == 0 {
		t.Errorf("text %q encoding %q raw % x; want %q from Shift_JIS bytes", c.Text, c.Encoding, c.Raw, want)
	}
}

// TestWeChatOnLocatedCodes exercises the wechat strategy directly: the
// codes cv::QRCodeDetector locates in a two-code image are rectified and
// each decoded by wechat_qrcode with its own corners (without its CNN,
// wechat alone sees the whole frame as one code).
func TestWeChatOnLocatedCodes(t *testing.T) {
	d := newDecoder(t)
	img := gocv.IMRead(shared+"qr-gocv/multi_qrcodes.png", gocv.IMReadColor)
	defer img.Close()
	grey, err := darkest(img)
	if err != nil {
		t.Fatal(err)
	}
	defer grey.Close()
	quads, err := locate(grey)
	if err != nil || len(quads) != 16 {
		t.Fatalf("located %d quads, %v; want 2", len(quads)/8, err)
	}
	codes, err := d.decodeQuads(grey, quads)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range codes {
		texts = append(texts, c.Text)
		if c.Method != MethodLocated || area(c.Corners) == 0 {
			t.Errorf("%q: method %q corners %v", c.Text, c.Method, c.Corners)
		}
	}
	slices.Sort(texts)
	if !slices.Equal(texts, []string{"bar", "foo"}) {
		t.Errorf("decoded %q, want bar and foo", texts)
	}
	if codes[0].Corners == codes[1].Corners {
		t.Error("both codes have the same corners")
	}
	// A photo only this strategy reads among the bench sets.
	got, _ := decodeFile(t, d, shared+"qr-zxing/qrcode-3/22.png")
	want, _ := os.ReadFile(shared + "qr-zxing/qrcode-3/22.txt")
	if len(got) != 1 || got[0].Text != string(want) || got[0].Method != MethodLocated {
		t.Errorf("qrcode-3/22.png: %+v", got)
	}
}

// TestDarkest: each grey pixel is the darkest of its pixel's three colour
// channels (never alpha), at widths with and without a tail shorter than the
// SIMD step, for BGR and BGRA.
func TestDarkest(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  gocv.MatType
		ch   int
		w    int
	}{
		{"bgr 640", gocv.MatTypeCV8UC3, 3, 640},
		{"bgr 37", gocv.MatTypeCV8UC3, 3, 37},
		{"bgra 645", gocv.MatTypeCV8UC4, 4, 645},
		{"bgra 15", gocv.MatTypeCV8UC4, 4, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const h = 3
			buf := make([]byte, h*tc.w*tc.ch)
			for i := range buf {
				buf[i] = byte(i*131 + i/7*17 + i%5*3)
			}
			if tc.ch == 4 {
				for i := 3; i < len(buf); i += 4 {
					buf[i] = 0 // alpha darker than every channel: must be ignored
				}
			}
			img, err := gocv.NewMatFromBytes(h, tc.w, tc.typ, buf)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			grey, err := darkest(img)
			if err != nil {
				t.Fatal(err)
			}
			defer grey.Close()
			got := grey.ToBytes()
			for p := range h * tc.w {
				px := buf[p*tc.ch : p*tc.ch+3]
				if want := min(px[0], px[1], px[2]); got[p] != want {
					t.Fatalf("pixel %d (%d,%d): %d, want %d (channels %v)", p, p%tc.w, p/tc.w, got[p], want, px)
				}
			}
		})
	}
}

// TestWeChatCrop: a located code is rectified into a crop of at least 320
// pixels a side (below that wechat_qrcode also reads it enlarged 2×, four
// times the pixels on every failure), keeping larger codes' own size up to
// the cap.
func TestWeChatCrop(t *testing.T) {
	for _, tc := range []struct {
		side     float64
		min, max int
	}{
		{10, 320, 321}, {84, 320, 321}, {150, 320, 321}, {239, 320, 321},
		{300, 400, 401}, {600, 800, 801}, {5000, 1067, 1067},
	} {
		if got := wechatCrop(tc.side); got < tc.min || got > tc.max {
			t.Errorf("code side %.0f: crop %d, want %d to %d", tc.side, got, tc.min, tc.max)
		}
	}
}

// TestDecoderReusesFrameBuffers: frames of one size are converted into the
// same grey buffer call after call (no fresh 300 KB image per frame), and a
// frame of another size, grey or colour, in between is read as well as it
// is alone (the buffer follows the frame's size and type).
func TestDecoderReusesFrameBuffers(t *testing.T) {
	d := newDecoder(t)
	phone := shared + "qr-phone/2.jpg"
	want, err := os.ReadFile(shared + "qr-phone/2.txt")
	if err != nil {
		t.Fatal(err)
	}
	small := shared + "qr-zxing/qrcode-1/1.png"
	wantSmall, err := os.ReadFile(shared + "qr-zxing/qrcode-1/1.txt")
	if err != nil {
		t.Fatal(err)
	}
	reads := func(file string, want []byte, grey bool) {
		t.Helper()
		flag := gocv.IMReadColor
		if grey {
			flag = gocv.IMReadGrayScale
		}
		img := gocv.IMRead(file, flag)
		defer img.Close()
		codes, err := d.Decode(img)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(codes, func(c vision.Code) bool { return c.Text == string(want) }) {
			t.Errorf("%s (grey %v): codes %+v, want %q", file, grey, codes, want)
		}
	}
	data := func() *uint8 {
		b, err := d.grey.DataPtrUint8()
		if err != nil || len(b) == 0 {
			t.Fatalf("grey buffer: %v", err)
		}
		return &b[0]
	}
	reads(phone, want, false)
	first := data()
	reads(phone, want, false)
	if data() != first {
		t.Error("a second frame of the same size got a new grey buffer")
	}
	reads(small, wantSmall, false)
	reads(small, wantSmall, true)
	reads(phone, want, true)
	reads(phone, want, false)
}
