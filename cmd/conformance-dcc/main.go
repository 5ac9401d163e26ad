// Command conformance-dcc runs GateGuard's EU Digital COVID Certificate
// decoder against the member states' test vectors (dgc-testdata raw JSON
// files, found at any depth under -dir). For each file it checks every
// EXPECTED* flag GateGuard can check — the QR picture through GateGuard's own
// QR path (vision/qr), prefix, base45, zlib, COSE signature with
// TESTCTX.CERTIFICATE, expiry at TESTCTX.VALIDATIONCLOCK, CBOR and JSON
// content, key usage — and prints a table of pass/fail/skip per flag, then
// one line: files=N checked=C wrong=W skipped=S. It exits 1 when wrong > 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/vision/qr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "conformance-dcc:", err)
		os.Exit(1)
	}
}

// errWrong is returned when any file's verdict differs from its expectation.
var errWrong = errors.New("some files were judged wrongly")

func run(ctx context.Context, args []string, out io.Writer) error {
	fl := flag.NewFlagSet("conformance-dcc", flag.ContinueOnError)
	dir := fl.String("dir", "../shared/testdata/dcc", "folder of dgc-testdata raw JSON files (searched at any depth)")
	verbose := fl.Bool("v", false, "list every file's verdicts, not only wrong and skipped ones")
	if err := fl.Parse(args); err != nil {
		return err
	}
	dec, err := qr.New()
	if err != nil {
		return err
	}
	defer dec.Close()
	results, err := runDir(ctx, *dir, pictureDecoderFor(dec))
	if err != nil {
		return err
	}
	s := report(out, results, *verbose)
	if s.wrong > 0 {
		return errWrong
	}
	return nil
}

// runDir checks every .json file under dir, in path order.
func runDir(ctx context.Context, dir string, decode pictureDecoder) ([]fileResult, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .json files under %s", dir)
	}
	sort.Strings(paths)
	var results []fileResult
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := checkFile(p, decode)
		if rel, err := filepath.Rel(dir, p); err == nil {
			r.path = rel
		}
		results = append(results, r)
	}
	return results, nil
}

// summary is the last line's numbers.
type summary struct{ files, checked, wrong, skipped int }

func (s summary) String() string {
	return fmt.Sprintf("files=%d checked=%d wrong=%d skipped=%d", s.files, s.checked, s.wrong, s.skipped)
}

// flagCounts is how many files passed, failed and skipped one flag.
type flagCounts struct{ pass, fail, skip int }

// report prints the per-flag table, the wrong and skipped files, and the
// summary line, which it returns.
func report(out io.Writer, results []fileResult, verbose bool) summary {
	s, per, order := tally(results)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tPASS\tFAIL\tSKIP\t")
	for _, f := range order {
		c := per[f]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", f, c.pass, c.fail, c.skip)
	}
	tw.Flush()
	fmt.Fprintln(out)
	for _, r := range results {
		reportFile(out, r, verbose)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, s)
	return s
}

// tally counts the files and, per flag, the outcomes; order lists the
// flags seen in the table's order.
func tally(results []fileResult) (s summary, per map[string]*flagCounts, order []string) {
	per = map[string]*flagCounts{}
	for _, r := range results {
		s.files++
		if r.skipped != "" {
			s.skipped++
		} else {
			s.checked++
			if r.wrong() {
				s.wrong++
			}
		}
		for _, f := range r.flags {
			c := per[f.flag]
			if c == nil {
				c = &flagCounts{}
				per[f.flag] = c
				order = append(order, f.flag)
			}
			switch f.outcome {
			case pass:
				c.pass++
			case fail:
				c.fail++
			default:
				c.skip++
			}
		}
	}
	rank := func(f string) int {
		for i, g := range flags {
			if g == f {
				return i
			}
		}
		return len(flags)
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	return s, per, order
}

// reportFile prints what is wrong or skipped in one file (everything when
// verbose).
func reportFile(out io.Writer, r fileResult, verbose bool) {
	switch {
	case r.skipped != "":
		fmt.Fprintf(out, "SKIP  %s: %s\n", r.path, r.skipped)
	case r.wrong() || verbose:
		state := "ok  "
		if r.wrong() {
			state = "WRONG"
		}
		fmt.Fprintf(out, "%s %s\n", state, r.path)
		for _, f := range r.flags {
			if f.outcome == fail || verbose {
				fmt.Fprintf(out, "      %s %s expected=%v got=%v %s\n", f.flag, outcomeName(f.outcome), f.expected, f.got, f.why)
			}
		}
	}
	if r.skipped == "" {
		for _, f := range r.flags {
			if f.outcome == skip && !verbose && uncheckable[f.flag] == "" {
				fmt.Fprintf(out, "skip  %s %s: %s\n", r.path, f.flag, f.why)
			}
		}
	}
}

func outcomeName(o outcome) string {
	return [...]string{"skip", "pass", "FAIL"}[o]
}

// pictureDecoderFor decodes a PNG with GateGuard's QR decoder; when the
// picture yields nothing it retries with a white quiet zone added, as a
// printed code has one.
func pictureDecoderFor(dec *qr.Decoder) pictureDecoder {
	return func(png []byte) ([]string, error) {
		img, err := gocv.IMDecode(png, gocv.IMReadColor)
		if err != nil {
			return nil, fmt.Errorf("PNG: %w", err)
		}
		defer img.Close()
		if img.Empty() {
			return nil, errors.New("PNG: cannot decode image")
		}
		texts, err := decodeMat(dec, img)
		if err != nil || len(texts) > 0 {
			return texts, err
		}
		pad := max(img.Rows(), img.Cols()) / 8
		bordered := gocv.NewMat()
		defer bordered.Close()
		gocv.CopyMakeBorder(img, &bordered, pad, pad, pad, pad, gocv.BorderConstant, color.RGBA{255, 255, 255, 0})
		return decodeMat(dec, bordered)
	}
}

func decodeMat(dec *qr.Decoder, img gocv.Mat) ([]string, error) {
	codes, err := dec.Decode(img)
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, c := range codes {
		texts = append(texts, c.Text)
	}
	return texts, nil
}
