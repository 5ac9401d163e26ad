package imagefile

import (
	"bytes"
	"encoding/binary"

	"gocv.io/x/gocv"
)

// exifOrientation returns the Orientation tag (0x0112, 1–8) of a JPEG's
// EXIF block (APP1 "Exif\0\0", a TIFF header, IFD0), or 1 when there is
// none or it is damaged. EXIF 2.3 §4.6.4, table 4.
func exifOrientation(jpeg []byte) int {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		return 1
	}
	for p := 2; p+4 <= len(jpeg); {
		if jpeg[p] != 0xFF {
			return 1
		}
		marker := jpeg[p+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(jpeg[p+2:]))
		if n < 2 || p+2+n > len(jpeg) {
			return 1
		}
		seg := jpeg[p+4 : p+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[ifd:]))
	for i := range count {
		e := ifd + 2 + 12*i
		if e+12 > len(t) {
			return 1
		}
		// Orientation is a SHORT (type 3), count 1, its value in the
		// first two bytes of the value field.
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient turns m upright for an EXIF orientation, as OpenCV's imread does
// (ExifTransform): 2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90°
// clockwise, 7 transverse, 8 rotate 90° anticlockwise.
func orient(m *gocv.Mat, o int) {
	if o < 2 || o > 8 {
		return
	}
	if o >= 5 {
		t := gocv.NewMat()
		gocv.Transpose(*m, &t)
		m.Close()
		*m = t
	}
	flip := map[int]int{2: 1, 3: -1, 4: 0, 6: 1, 7: -1, 8: 0}
	if code, ok := flip[o]; ok {
		gocv.Flip(*m, m, code)
	}
}
