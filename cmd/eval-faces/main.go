// Command eval-faces measures face verification as the gate does it: the
// gate's detector (YuNet), alignment (facerec.Align) and descriptor.
//
//	eval-faces -faces DIR [-yunet FILE] [-model FILE | -lbph] [-enrol 3] [-tune s1-s12] [-threshold T]
//
// DIR has a folder per identity holding numbered images (1.pgm, 2.pgm, …).
// The first -enrol images of each identity (by number) are its templates;
// every other image is verified against its own identity (genuine) and
// against every other identity (impostor), scored by its least distance to
// that identity's templates. A probe in which no face is found counts as a
// rejection. It prints a ROC table, the threshold the documented rule picks
// on the -tune identities and the rates of the other identities at the
// threshold used, and last:
//
//	identities=I genuine=G impostor=M FAR=a FRR=b threshold=t embed_ms=e
//
// for all identities, at -threshold (default: the descriptor's default),
// with e the median time of one descriptor.
//
// For design work on the tune identities alone: -only s1-s12 loads only
// those identities, -near N prints the N largest genuine and smallest
// impostor distances with their images. The -x-mirror, -x-mean and
// -x-upscale flags are experiments that the gate's real path does not do
// (see docs/face-verification.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/facerec"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "eval-faces:", err)
		os.Exit(1)
	}
}

// sample is one image's descriptor, or none when no face was found.
type sample struct {
	id  string
	n   int
	vec []float32
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval-faces", flag.ContinueOnError)
	dir := fs.String("faces", "../shared/testdata/faces/orl", "folder with a folder of numbered images per identity")
	yunet := fs.String("yunet", "../shared/testdata/models/yunet/yunet_120x160.onnx", "YuNet ONNX model")
	model := fs.String("model", "bin/models/faceapi-recognition.onnx", "converted face-api descriptor (make facenet-model)")
	useLBPH := fs.Bool("lbph", false, "use the LBPH fallback instead of the model")
	enrol := fs.Int("enrol", 3, "images enrolled per identity")
	tune := fs.String("tune", "", "identities to choose the threshold on, e.g. s1-s12; the rest are held out")
	threshold := fs.Float64("threshold", 0, "largest distance of a match; 0: the descriptor's default")
	only := fs.String("only", "", "evaluate only these identities, e.g. s1-s12 (design experiments on the tune set)")
	near := fs.Int("near", 0, "print the N largest genuine and N smallest impostor distances")
	fs.BoolVar(&xMirror, "x-mirror", false, "experiment: average the descriptor with its mirror's (LBPH; the net's Embed does it already)")
	fs.Float64Var(&xUpscale, "x-upscale", 1, "experiment: upscale each image by this factor before detection")
	meanFlag := fs.String("score", "", "mean (the mean template) or nearest (the nearest template); default: the gate's rule for the descriptor (mean for the net, nearest for LBPH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *enrol < 1 {
		return fmt.Errorf("-enrol %d: want at least 1", *enrol)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	desc, err := newDescriptor(*useLBPH, *model, log)
	if err != nil {
		return err
	}
	switch *meanFlag {
	case "":
		xMean = desc.Name() == facerec.NetName // as cmd/gateguard sets faces.Options.MeanTemplate
	case "mean", "nearest":
		xMean = *meanFlag == "mean"
	default:
		return fmt.Errorf("-score %q: want mean or nearest", *meanFlag)
	}
	defer desc.Close()
	det, err := face.NewYuNet(*yunet, nil)
	if err != nil {
		return err
	}
	defer det.Close()

	ids, files, err := listFaces(*dir)
	if err != nil {
		return err
	}
	if *only != "" {
		keep, err := parseIDs(*only)
		if err != nil {
			return err
		}
		var kept []string
		for _, id := range ids {
			if keep[id] {
				kept = append(kept, id)
			}
		}
		ids = kept
	}
	samples, embedTimes, missed, err := describeAll(ctx, det, desc, ids, files, log)
	if err != nil {
		return err
	}
	attempts, err := verify(samples, ids, *enrol, desc.Distance)
	if err != nil {
		return err
	}
	all := map[string]bool{}
	for _, id := range ids {
		all[id] = true
	}
	full := subset(attempts, all)
	fmt.Printf("descriptor=%s model=%s faces=%s images=%d no_face=%d\n", desc.Name(), desc.ModelID(), *dir, len(samples), missed)
	fmt.Printf("ROC, all identities (accept when distance <= threshold):\n%s", rocTable(full))

	if *near > 0 {
		printNear(attempts, *near)
	}
	t := *threshold
	if t == 0 {
		t = desc.Threshold()
	}
	if *tune != "" {
		if err := reportTune(attempts, ids, *tune, *dir, t); err != nil {
			return err
		}
	}
	fmt.Printf("%s embed_ms=%.1f\n", line(full, t), median(embedTimes))
	return nil
}

// newDescriptor loads the face-api descriptor from model, or the LBPH
// fallback.
func newDescriptor(useLBPH bool, model string, log *slog.Logger) (facerec.Descriptor, error) {
	if useLBPH {
		l, err := facerec.NewLBPH()
		if err != nil {
			return nil, err
		}
		log.Warn("using the LBPH fallback: much weaker than the face-api descriptor")
		return l, nil
	}
	n, err := facerec.NewNet(model)
	if err != nil {
		return nil, fmt.Errorf("%w (make facenet-model writes it; -lbph runs the weak fallback)", err)
	}
	return n, nil
}

// describeAll describes every image of every identity; it returns the
// samples, the time of each descriptor computed, and how many images had
// no face.
func describeAll(ctx context.Context, det *face.YuNet, desc facerec.Descriptor, ids []string, files map[string][]faceFile,
	log *slog.Logger) (samples []sample, embedTimes []time.Duration, missed int, err error) {
	for _, id := range ids {
		for _, f := range files[id] {
			if err := ctx.Err(); err != nil {
				return nil, nil, 0, err
			}
			vec, d, err := describe(det, desc, f.path)
			if err != nil {
				return nil, nil, 0, err
			}
			if vec == nil {
				missed++
				log.Warn("no face found", "file", f.path)
			} else {
				embedTimes = append(embedTimes, d)
			}
			samples = append(samples, sample{id: id, n: f.n, vec: vec})
		}
	}
	return samples, embedTimes, missed, nil
}

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

type faceFile struct {
	path string
	n    int
}

// listFaces lists the identity folders of dir and their numbered images.
func listFaces(dir string) ([]string, map[string][]faceFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("faces: %w", err)
	}
	var ids []string
	files := map[string][]faceFile{}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		imgs, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("faces: %w", err)
		}
		for _, im := range imgs {
			base := strings.TrimSuffix(im.Name(), filepath.Ext(im.Name()))
			n, err := strconv.Atoi(base)
			if im.IsDir() || err != nil {
				continue
			}
			files[e.Name()] = append(files[e.Name()], faceFile{path: filepath.Join(dir, e.Name(), im.Name()), n: n})
		}
		if len(files[e.Name()]) > 0 {
			ids = append(ids, e.Name())
			sort.Slice(files[e.Name()], func(i, j int) bool { return files[e.Name()][i].n < files[e.Name()][j].n })
		}
	}
	if len(ids) < 2 {
		return nil, nil, fmt.Errorf("faces: %s has %d identity folders with numbered images, want at least 2", dir, len(ids))
	}
	sort.Slice(ids, func(i, j int) bool {
		pi, ni := splitNum(ids[i])
		pj, nj := splitNum(ids[j])
		if pi != pj {
			return pi < pj
		}
		return ni < nj
	})
	return ids, files, nil
}

// describe detects the most confident face in the image at path, aligns it
// and computes its descriptor, timing only the descriptor. It returns nil
// when no face is found.
func describe(det *face.YuNet, desc facerec.Descriptor, path string) ([]float32, time.Duration, error) {
	img := gocv.IMRead(path, gocv.IMReadColor)
	defer img.Close()
	if img.Empty() {
		return nil, 0, fmt.Errorf("faces: %s: not an image", path)
	}
	if xUpscale != 1 {
		gocv.Resize(img, &img, image.Pt(0, 0), xUpscale, xUpscale, gocv.InterpolationCubic)
	}
	faces, err := det.Detect(img)
	if err != nil {
		return nil, 0, fmt.Errorf("faces: %s: %w", path, err)
	}
	var best *vision.Face
	for i := range faces {
		if best == nil || faces[i].Score > best.Score {
			best = &faces[i]
		}
	}
	if best == nil {
		return nil, 0, nil
	}
	chip := gocv.NewMat()
	defer chip.Close()
	if err := facerec.AlignFace(img, *best, &chip); err != nil {
		return nil, 0, fmt.Errorf("faces: %s: %w", path, err)
	}
	start := time.Now()
	vec, err := desc.Embed(chip)
	if xMirror && err == nil {
		fl := gocv.NewMat()
		gocv.Flip(chip, &fl, 1)
		v2, err2 := desc.Embed(fl)
		fl.Close()
		err = err2
		for i := range vec {
			vec[i] = (vec[i] + v2[i]) / 2
		}
	}
	d := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("faces: %s: %w", path, err)
	}
	return vec, d, nil
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
