package qr

import (
	"slices"
	"testing"

	"gocv.io/x/gocv"
)

const shared = "../../../shared/testdata/"

func TestDecodeFiles(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		file string
		want []string
	}{
		{"qr-gocv/qrcode.png", []string{"Hello World!"}},
		// Two codes; without its CNN detector wechat_qrcode reads the whole
		// frame as one candidate and decodes one of them.
		{"qr-gocv/multi_qrcodes.png", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img := gocv.IMRead(shared+tt.file, gocv.IMReadColor)
			if img.Empty() {
				t.Fatalf("cannot read %s", tt.file)
			}
			defer img.Close()
			codes, err := d.Decode(img)
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, c := range codes {
				texts = append(texts, c.Text)
			}
			if tt.want != nil && !slices.Equal(texts, tt.want) {
				t.Errorf("decoded %q, want %q", texts, tt.want)
			}
			if tt.want == nil && len(texts) == 0 {
				t.Errorf("decoded nothing")
			}
		})
	}
}

func TestDecodeDegenerateFrames(t *testing.T) {
	d, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	tiny := gocv.NewMatWithSize(5, 5, gocv.MatTypeCV8UC3)
	defer tiny.Close()
	blank := gocv.NewMatWithSize(480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	for name, m := range map[string]gocv.Mat{"empty": empty, "tiny": tiny, "blank": blank} {
		codes, err := d.Decode(m)
		if err != nil || len(codes) != 0 {
			t.Errorf("%s: %v, %v", name, codes, err)
		}
	}
	d.Close()
	if _, err := d.Decode(blank); err == nil {
		t.Error("decode after Close succeeded")
	}
}
