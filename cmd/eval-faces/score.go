package main

// Scoring: templates against probes, the tune and held-out report, the
// near-miss listing.

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// reportTune prints the threshold the rule picks on the -tune identities
// and the rates of the tuning and held-out identities at threshold t.
func reportTune(attempts []attempt, ids []string, tune, dir string, t float64) error {
	tuneIDs, err := parseIDs(tune)
	if err != nil {
		return err
	}
	held := map[string]bool{}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
		if !tuneIDs[id] {
			held[id] = true
		}
	}
	for id := range tuneIDs {
		if !known[id] {
			return fmt.Errorf("-tune: no identity %q in %s", id, dir)
		}
	}
	ts := subset(attempts, tuneIDs)
	chosen, t0, t1 := ts.chooseThreshold()
	far, frr := ts.rates(chosen)
	fmt.Printf("tune %s: no-false-accept up to %.4f, no-false-reject from %.4f: rule picks threshold=%.4f (FAR=%.4f FRR=%.4f there)\n",
		tune, t0, t1, chosen, far, frr)
	if len(held) > 0 {
		fmt.Printf("held-out %s\n", line(subset(attempts, held), t))
	}
	fmt.Printf("tune %s\n", line(ts, t))
	return nil
}

func line(s scores, t float64) string {
	far, frr := s.rates(t)
	return fmt.Sprintf("identities=%d genuine=%d impostor=%d FAR=%.4f FRR=%.4f threshold=%.4g",
		s.identities, len(s.genuine), len(s.impostor), far, frr, t)
}

// verify enrols the first n samples of each identity and scores every other
// sample against every identity.
func verify(samples []sample, ids []string, n int, dist func(a, b []float32) float64) ([]attempt, error) {
	templates := map[string][][]float32{}
	var probes []sample
	count := map[string]int{}
	for _, s := range samples {
		count[s.id]++
		if count[s.id] <= n {
			if s.vec != nil {
				templates[s.id] = append(templates[s.id], s.vec)
			}
			continue
		}
		probes = append(probes, s)
	}
	for _, id := range ids {
		if len(templates[id]) == 0 {
			return nil, fmt.Errorf("identity %s: no face found in its first %d images, nothing enrolled", id, n)
		}
	}
	var out []attempt
	for _, p := range probes {
		for _, id := range ids {
			d := math.Inf(1)
			if p.vec != nil {
				for _, t := range templates[id] {
					d = math.Min(d, dist(p.vec, t))
				}
			}
			if xMean && p.vec != nil {
				m := make([]float32, len(p.vec))
				for _, t := range templates[id] {
					for i := range m {
						m[i] += t[i] / float32(len(templates[id]))
					}
				}
				d = dist(p.vec, m)
			}
			out = append(out, attempt{probe: p.id, n: p.n, claimed: id, dist: d})
		}
	}
	return out, nil
}

var (
	xMirror  bool
	xUpscale float64
	xMean    bool
)

func printNear(as []attempt, n int) {
	var g, im []attempt
	for _, a := range as {
		if a.probe == a.claimed {
			g = append(g, a)
		} else {
			im = append(im, a)
		}
	}
	sort.Slice(g, func(i, j int) bool { return g[i].dist > g[j].dist })
	sort.Slice(im, func(i, j int) bool { return im[i].dist < im[j].dist })
	for i := 0; i < n && i < len(g); i++ {
		fmt.Printf("near genuine %s/%d %.4f\n", g[i].probe, g[i].n, g[i].dist)
	}
	for i := 0; i < n && i < len(im); i++ {
		fmt.Printf("near impostor %s/%d as %s %.4f\n", im[i].probe, im[i].n, im[i].claimed, im[i].dist)
	}
}

func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return math.NaN()
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return float64(m) / float64(time.Millisecond)
}
