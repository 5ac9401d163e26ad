package main

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// attempt is one verification: a probe's least distance to a claimed
// identity's templates. A probe with no face detected has distance +Inf (a
// rejection).
type attempt struct {
	probe, claimed string // identities
	n              int    // the probe image's number
	dist           float64
}

// scores are the genuine and impostor attempts of an evaluation.
type scores struct {
	identities        int
	genuine, impostor []float64
}

// subset keeps the attempts whose probe and claimed identity are both in ids.
func subset(all []attempt, ids map[string]bool) scores {
	s := scores{identities: len(ids)}
	for _, a := range all {
		if !ids[a.probe] || !ids[a.claimed] {
			continue
		}
		if a.probe == a.claimed {
			s.genuine = append(s.genuine, a.dist)
		} else {
			s.impostor = append(s.impostor, a.dist)
		}
	}
	return s
}

// rates returns the false-accept rate (impostors with distance ≤ t) and the
// false-reject rate (genuine attempts with distance > t).
func (s scores) rates(t float64) (far, frr float64) {
	fa, fr := 0, 0
	for _, d := range s.impostor {
		if d <= t {
			fa++
		}
	}
	for _, d := range s.genuine {
		if !(d <= t) {
			fr++
		}
	}
	return frac(fa, len(s.impostor)), frac(fr, len(s.genuine))
}

func frac(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// maxThreshold is the largest threshold whose FAR is at most far: just
// below the k-th smallest impostor distance, k = ⌊far·impostors⌋+1.
func (s scores) maxThreshold(far float64) float64 {
	imp := append([]float64(nil), s.impostor...)
	sort.Float64s(imp)
	k := int(math.Floor(far*float64(len(imp)) + 1e-9))
	if k >= len(imp) {
		return math.Inf(1)
	}
	return math.Nextafter(imp[k], math.Inf(-1))
}

// chooseThreshold is the documented rule for the default threshold, applied
// to the tuning identities: t0 is the largest threshold with no false
// accept there, t1 the smallest with no false reject. When they are
// separated (t1 < t0) the threshold is their midpoint, the widest margin to
// both; otherwise t0, zero false accepts first.
func (s scores) chooseThreshold() (t, t0, t1 float64) {
	t0 = s.maxThreshold(0)
	t1 = math.Inf(-1)
	for _, d := range s.genuine {
		t1 = math.Max(t1, d)
	}
	if t1 < t0 && !math.IsInf(t0, 0) {
		return (t0 + t1) / 2, t0, t1
	}
	return t0, t0, t1
}

// rocTargets are the FARs the ROC table lists.
var rocTargets = []float64{0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}

// rocTable prints, for each FAR target, the largest threshold meeting it
// and the FRR there.
func rocTable(s scores) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-10s %-8s %-8s\n", "FAR<=", "threshold", "FAR", "FRR")
	for _, target := range rocTargets {
		t := s.maxThreshold(target)
		far, frr := s.rates(t)
		fmt.Fprintf(&b, "%-10.3f %-10.4f %-8.4f %-8.4f\n", target, t, far, frr)
	}
	return b.String()
}

// parseIDs reads a set of identities: comma-separated names, where a range
// "s1-s12" means s1, s2, … s12.
func parseIDs(spec string) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, ok := strings.Cut(part, "-")
		if !ok {
			ids[part] = true
			continue
		}
		pl, nl := splitNum(lo)
		ph, nh := splitNum(hi)
		if pl != ph || nl < 0 || nh < nl {
			return nil, fmt.Errorf("identities %q: want a range like s1-s12", part)
		}
		for i := nl; i <= nh; i++ {
			ids[pl+strconv.Itoa(i)] = true
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("identities %q: none", spec)
	}
	return ids, nil
}

// splitNum splits "s12" into "s" and 12; the number is -1 if there is none.
func splitNum(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}
