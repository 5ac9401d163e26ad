package vision

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
