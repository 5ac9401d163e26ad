// Command bench-qr measures GateGuard's QR decoder against the decoders people
// use today, zbarimg (zbar) and ZXingReader (zxing-cpp), on folders of
// images where each image N.ext has its exact expected text in N.txt. It
// prints a table per folder and a last line
//
//	total n=N gateguard=G zbar=Z zxing-cpp=X gateguard_ms=A zxing_ms=B
//
// with the counts of exact decodes and the time per image in milliseconds:
// GateGuard's in-process decoding time (the file is read before) and
// ZXingReader's wall time on one run over all images of all folders, divided
// by their number. Each time is the fastest of -runs runs, as the machine
// may be shared. An image counts as decoded when one of the codes read
// from it has exactly the expected text.
package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/qr"
)

// sample is one image with its expected text.
type sample struct {
	image, want string
}

// result is one decoder's outcome on one sample.
type result struct {
	ok   bool
	took time.Duration
	note string
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: bench-qr dir...\n")
		flag.PrintDefaults()
	}
	runs := flag.Int("runs", 3, "time each decoder this many times and keep the fastest (the machine may be shared)")
	flag.Parse()
	if err := run(os.Stdout, flag.Args(), max(*runs, 1)); err != nil {
		fmt.Fprintln(os.Stderr, "bench-qr:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, dirs []string, runs int) error {
	dirs, sets, all, err := load(dirs)
	if err != nil {
		return err
	}
	zx, zxTook, err := zxingBatch(all)
	if err != nil {
		return err
	}
	for range runs - 1 {
		_, t, err := zxingBatch(all)
		if err != nil {
			return err
		}
		zxTook = min(zxTook, t)
	}
	dec, err := qr.New()
	if err != nil {
		return err
	}
	defer dec.Close()

	var n, g, z, x int
	var gTook time.Duration
	for i, d := range dirs {
		fmt.Fprintf(w, "\n%s\n%-24s %-26s %-8s %-9s\n", d, "image", "gateguard (ms, method)", "zbar", "zxing-cpp")
		var fg, fz, fx int
		for _, s := range sets[i] {
			gr := gateguard(dec, s, runs)
			zout, err := zbar(s.image)
			if err != nil {
				return err
			}
			zr := zbarHas(zout, s.want)
			xr := contains(zx[s.image], s.want)
			n++
			gTook += gr.took
			fg, fz, fx = fg+b2i(gr.ok), fz+b2i(zr), fx+b2i(xr)
			fmt.Fprintf(w, "%-24s %-4s %7.1f %-13s %-8s %-9s\n", filepath.Base(s.image), mark(gr.ok),
				ms(gr.took), gr.note, mark(zr), mark(xr))
		}
		g, z, x = g+fg, z+fz, x+fx
		fmt.Fprintf(w, "folder %s n=%d gateguard=%d zbar=%d zxing-cpp=%d\n", filepath.Base(d), len(sets[i]), fg, fz, fx)
	}
	fmt.Fprintf(w, "\ntotal n=%d gateguard=%d zbar=%d zxing-cpp=%d gateguard_ms=%.1f zxing_ms=%.1f\n",
		n, g, z, x, ms(gTook)/float64(n), ms(zxTook)/float64(n))
	return nil
}

// gateguard reads one image and decodes it runs times in process, keeping
// the fastest time.
func gateguard(dec *qr.Decoder, s sample, runs int) result {
	img := gocv.IMRead(s.image, gocv.IMReadColor)
	defer img.Close()
	var codes []vision.Code
	var err error
	r := result{took: time.Duration(math.MaxInt64)}
	for range runs {
		start := time.Now()
		codes, err = dec.Decode(img)
		r.took = min(r.took, time.Since(start))
	}
	if err != nil {
		r.note = "error"
		return r
	}
	for _, c := range codes {
		if c.Text == s.want {
			r.ok, r.note = true, c.Method
			return r
		}
	}
	if len(codes) > 0 {
		r.note = "wrong text"
	}
	return r
}

// load lists the samples of each folder (see expand) and all their images.
func load(given []string) (dirs []string, sets [][]sample, all []string, err error) {
	if len(given) == 0 {
		return nil, nil, nil, errors.New("no folders given")
	}
	if dirs, err = expand(given); err != nil {
		return nil, nil, nil, err
	}
	sets = make([][]sample, len(dirs))
	for i, d := range dirs {
		if sets[i], err = samples(d); err != nil {
			return nil, nil, nil, err
		}
		for _, x := range sets[i] {
			all = append(all, x.image)
		}
	}
	return dirs, sets, all, nil
}

// expand replaces each folder that holds no sample itself by its
// subfolders that do, in numeric order (a set such as ZXing's qrcode-1,
// qrcode-2, … can be given by its parent).
func expand(dirs []string) ([]string, error) {
	var out []string
	for _, d := range dirs {
		if _, err := samples(d); err == nil {
			out = append(out, d)
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		var subs []string
		for _, e := range entries {
			sub := filepath.Join(d, e.Name())
			if e.IsDir() {
				if _, err := samples(sub); err == nil {
					subs = append(subs, sub)
				}
			}
		}
		if len(subs) == 0 {
			return nil, fmt.Errorf("%s: no image N.ext with its expected text in N.txt, nor a subfolder with some", d)
		}
		slices.SortFunc(subs, func(a, b string) int { return cmp.Compare(dirKey(a), dirKey(b)) })
		out = append(out, subs...)
	}
	return out, nil
}

// samples lists the images of dir that have an expected text, in numeric
// order.
func samples(dir string) ([]sample, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []sample
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || !slices.Contains([]string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pgm", ".ppm"}, ext) {
			continue
		}
		want, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(name, filepath.Ext(name))+".txt"))
		if err != nil {
			continue // no expected text: not a sample
		}
		out = append(out, sample{image: filepath.Join(dir, name), want: string(want)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no image N.ext with its expected text in N.txt", dir)
	}
	slices.SortFunc(out, func(a, b sample) int { return cmp.Compare(numKey(a.image), numKey(b.image)) })
	return out, nil
}

func numKey(path string) string {
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if n, err := strconv.Atoi(base); err == nil {
		return fmt.Sprintf("%012d", n)
	}
	return base
}

// dirKey orders folder names by their trailing number (qrcode-2 before
// qrcode-10).
func dirKey(path string) string {
	base := filepath.Base(path)
	i := len(base)
	for i > 0 && base[i-1] >= '0' && base[i-1] <= '9' {
		i--
	}
	if n, err := strconv.Atoi(base[i:]); err == nil {
		return fmt.Sprintf("%s%012d", base[:i], n)
	}
	return base
}

func contains(texts []string, want string) bool { return slices.Contains(texts, want) }

func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "-"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
