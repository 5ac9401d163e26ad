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

// flags are eval-faces' command line.
type flags struct {
	dir, yunet, model, tune, only, score string
	useLBPH                              bool
	enrol, near                          int
	threshold                            float64
}

// parseFlags reads the command line (the -x- experiment flags set the
// package's experiment switches).
func parseFlags(args []string) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("eval-faces", flag.ContinueOnError)
	fs.StringVar(&f.dir, "faces", "../shared/testdata/faces/orl", "folder with a folder of numbered images per identity")
	fs.StringVar(&f.yunet, "yunet", "../shared/testdata/models/yunet/yunet_120x160.onnx", "YuNet ONNX model")
	fs.StringVar(&f.model, "model", "bin/models/faceapi-recognition.onnx", "converted face-api descriptor (make facenet-model)")
	fs.BoolVar(&f.useLBPH, "lbph", false, "use the LBPH fallback instead of the model")
	fs.IntVar(&f.enrol, "enrol", 3, "images enrolled per identity")
	fs.StringVar(&f.tune, "tune", "", "identities to choose the threshold on, e.g. s1-s12; the rest are held out")
	fs.Float64Var(&f.threshold, "threshold", 0, "largest distance of a match; 0: the descriptor's default")
	fs.StringVar(&f.only, "only", "", "evaluate only these identities, e.g. s1-s12 (design experiments on the tune set)")
	fs.IntVar(&f.near, "near", 0, "print the N largest genuine and N smallest impostor distances")
	fs.BoolVar(&xMirror, "x-mirror", false, "experiment: average the descriptor with its mirror's (LBPH; the net's Embed does it already)")
	fs.Float64Var(&xUpscale, "x-upscale", 1, "experiment: upscale each image by this factor before detection")
	fs.StringVar(&f.score, "score", "", "mean (the mean template) or nearest (the nearest template); default: the gate's rule for the descriptor (mean for the net, nearest for LBPH)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.enrol < 1 {
		return nil, fmt.Errorf("-enrol %d: want at least 1", f.enrol)
	}
	return f, nil
}

// setScore chooses mean-template or nearest-template scoring: by default
// the gate's rule for the descriptor.
func setScore(score string, desc facerec.Descriptor) error {
	switch score {
	case "":
		xMean = desc.Name() == facerec.NetName // as cmd/gateguard sets faces.Options.MeanTemplate
	case "mean", "nearest":
		xMean = score == "mean"
	default:
		return fmt.Errorf("-score %q: want mean or nearest", score)
	}
	return nil
}

// keepOnly returns the identities of ids that only names (all when empty).
func keepOnly(ids []string, only string) ([]string, error) {
	if only == "" {
		return ids, nil
	}
	keep, err := parseIDs(only)
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, id := range ids {
		if keep[id] {
			kept = append(kept, id)
		}
	}
	return kept, nil
}

func run(ctx context.Context, args []string) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	desc, err := newDescriptor(f.useLBPH, f.model, log)
	if err != nil {
		return err
	}
	defer desc.Close()
	if err := setScore(f.score, desc); err != nil {
		return err
	}
	det, err := face.NewYuNet(f.yunet, nil)
	if err != nil {
		return err
	}
	defer det.Close()
	ids, files, err := listFaces(f.dir)
	if err != nil {
		return err
	}
	if ids, err = keepOnly(ids, f.only); err != nil {
		return err
	}
	samples, embedTimes, missed, err := describeAll(ctx, det, desc, ids, files, log)
	if err != nil {
		return err
	}
	attempts, err := verify(samples, ids, f.enrol, desc.Distance)
	if err != nil {
		return err
	}
	return report(f, desc, ids, samples, attempts, embedTimes, missed)
}

// report prints the ROC table, the near misses, the tune and held-out
// lines and the last line.
func report(f *flags, desc facerec.Descriptor, ids []string, samples []sample, attempts []attempt, embedTimes []time.Duration, missed int) error {
	all := map[string]bool{}
	for _, id := range ids {
		all[id] = true
	}
	full := subset(attempts, all)
	fmt.Printf("descriptor=%s model=%s faces=%s images=%d no_face=%d\n", desc.Name(), desc.ModelID(), f.dir, len(samples), missed)
	fmt.Printf("ROC, all identities (accept when distance <= threshold):\n%s", rocTable(full))
	if f.near > 0 {
		printNear(attempts, f.near)
	}
	t := f.threshold
	if t == 0 {
		t = desc.Threshold()
	}
	if f.tune != "" {
		if err := reportTune(attempts, ids, f.tune, f.dir, t); err != nil {
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
