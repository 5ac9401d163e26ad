package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progress shows how far a long job is: a bar redrawn in place on a
// terminal, plain lines otherwise (a log, a pipe). Notes (a refused photo)
// go on lines of their own either way.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
}

// newProgress returns a progress over total steps written to w; a bar
// when w is a terminal (isTerminal, snapshot.go).
func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && isTerminal(f), total: total}
}

// step counts one step done, on what.
func (p *progress) step(what string) {
	p.n++
	if !p.tty {
		fmt.Fprintf(p.w, "photo %d/%d %s\n", p.n, p.total, what)
		return
	}
	const width = 30
	fill := width * p.n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-24.24s", strings.Repeat("#", fill), strings.Repeat(".", width-fill), p.n, p.total, what)
}

// note prints a line beside the bar.
func (p *progress) note(line string) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, line)
}

// done ends the bar's line.
func (p *progress) done() {
	if p.tty && p.n > 0 {
		fmt.Fprintln(p.w)
	}
}
