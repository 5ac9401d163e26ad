package vision

import "image"

// CodeTracker follows codes across consecutive frames so that each
// presentation of a code is reported once: Mark sets Code.FirstSeen on a code
// that was not in the previous frames. A code missed for more than Gap frames
// in a row (a decoder miss, a hand passing) counts as gone, and its next
// sighting is first seen again. The gate still receives every code in every
// frame, so it can start a new attempt whenever its own repeat suppression
// allows. The zero value tracks with Gap 0. It is not safe for concurrent use.
type CodeTracker struct {
	// Gap is how many frames in a row a code may be missed and still count
	// as the same presentation.
	Gap uint64

	last map[string]uint64 // code key → seq of the frame it was last seen in
}

// Mark sets FirstSeen on each of codes, seen in frame seq (frames counted up
// from 1), and forgets codes gone for more than Gap frames.
func (t *CodeTracker) Mark(seq uint64, codes []Code) {
	if t.last == nil {
		t.last = map[string]uint64{}
	}
	for i := range codes {
		k := key(codes[i])
		prev, ok := t.last[k]
		codes[i].FirstSeen = !ok || seq <= prev || seq-prev > t.Gap+1
		t.last[k] = seq
	}
	for k, s := range t.last {
		if seq > s && seq-s > t.Gap+1 {
			delete(t.last, k)
		}
	}
}

// key identifies a code by its payload bytes, or its text when the bytes
// are unknown.
func key(c Code) string {
	if len(c.Raw) > 0 {
		return "r" + string(c.Raw)
	}
	return "t" + c.Text
}

// FollowOverlap is the least overlap (intersection over union) a face's box
// must have with the box it had in the previous frame to be the same face.
// A person at a gate moves a few pixels between frames at 15 fps; another
// person stepping into the same place is a new face once the first has gone
// (see gate's binding rules).
const FollowOverlap = 0.3

// Overlap is the intersection over union of two boxes, 0–1.
func Overlap(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := in.Dx() * in.Dy()
	ua := a.Dx()*a.Dy() + b.Dx()*b.Dy() - ia
	if ua <= 0 {
		return 0
	}
	return float64(ia) / float64(ua)
}

// Follow finds the face in faces that is the face last seen at box: the one
// overlapping box most, with at least FollowOverlap. ok is false when none
// does.
func Follow(box image.Rectangle, faces []Face) (i int, ok bool) {
	best, bestO := -1, 0.0
	for j, f := range faces {
		if o := Overlap(box, f.Box); o >= FollowOverlap && o > bestO {
			best, bestO = j, o
		}
	}
	return best, best >= 0
}

// NearestToCode returns the index of the face presenting code: the face
// whose chin (the bottom centre of its box) is nearest the code's centre, as
// a phone or a badge is held below the face. ok is false when faces is empty.
func NearestToCode(code Code, faces []Face) (i int, ok bool) {
	var c image.Point
	for _, p := range code.Corners {
		c = c.Add(p)
	}
	c = c.Div(4)
	best, bestD := -1, 0
	for j, f := range faces {
		chin := image.Pt((f.Box.Min.X+f.Box.Max.X)/2, f.Box.Max.Y)
		d := chin.Sub(c)
		dd := d.X*d.X + d.Y*d.Y
		if best < 0 || dd < bestD {
			best, bestD = j, dd
		}
	}
	return best, best >= 0
}

// InZone reports whether a face is close enough to the camera to be at the
// gate (in its checking zone): its eyes at least minEyeDistance pixels apart,
// or, without landmarks, its box at least 2.5 times that wide. A face
// further back (someone waiting in the queue) is outside; 0 puts every face
// in the zone.
func InZone(f Face, minEyeDistance float64) bool {
	if minEyeDistance <= 0 {
		return true
	}
	if d, _, _, ok := Pose(f); ok {
		return d >= minEyeDistance
	}
	return float64(f.Box.Dx()) >= 2.5*minEyeDistance
}
