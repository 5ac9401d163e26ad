package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Size limits for every command under cmd/ (issue 9): a function that needs
// more lines wants to be named steps, a file that needs more wants to be two.
// Test files are held to the function limit only: a table of cases is long
// by nature and is read one row at a time.
const (
	maxFuncLines = 60
	maxFileLines = 400
)

// TestCmdSizeLimits parses every .go file under cmd/ and fails on a
// function (or method, or function literal assigned at top level) longer
// than maxFuncLines, or a non-test file longer than maxFileLines.
func TestCmdSizeLimits(t *testing.T) {
	var checked int
	err := filepath.WalkDir("..", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		checked++
		for _, p := range sizeProblems(path) {
			t.Error(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files under cmd/: is the walk rooted right?", checked)
	}
}

// sizeProblems returns one message per limit the file at path breaks.
func sizeProblems(path string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var out []string
	lines := fset.File(f.Pos()).LineCount()
	if !strings.HasSuffix(path, "_test.go") && lines > maxFileLines {
		out = append(out, fmt.Sprintf("%s: %d lines, over the %d-line limit for a file in cmd/", path, lines, maxFileLines))
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		if n > maxFuncLines {
			out = append(out, fmt.Sprintf("%s: func %s is %d lines, over the %d-line limit in cmd/",
				fset.Position(fn.Pos()), funcName(fn), n, maxFuncLines))
		}
	}
	return out
}

func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + id.Name + ")." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestSizeProblems: the checker finds a function one line over the limit,
// and a non-test file one line over, but holds a test file to the function
// limit only.
func TestSizeProblems(t *testing.T) {
	body := func(lines int) string { // a function of exactly lines lines
		return "func f() {\n" + strings.Repeat("\t_ = 0\n", lines-2) + "}\n"
	}
	pad := func(src string, lines int) string { // src grown to lines lines
		return src + strings.Repeat("\n", lines-strings.Count(src, "\n")-1) + "// end\n"
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name, src string
		want      []string // substrings, one per problem
	}{
		{"ok.go", "package p\n" + body(maxFuncLines), nil},
		{"long.go", "package p\n" + body(maxFuncLines+1), []string{"func f is 61 lines"}},
		{"big.go", pad("package p\n", maxFileLines+1), []string{"401 lines, over the 400-line limit"}},
		{"fits.go", pad("package p\n", maxFileLines), nil},
		{"big_test.go", pad("package p\n"+body(maxFuncLines+1), maxFileLines+1), []string{"func f is 61 lines"}},
	} {
		path := filepath.Join(dir, tt.name)
		if err := os.WriteFile(path, []byte(tt.src), 0o644); err != nil {
			t.Fatal(err)
		}
		got := sizeProblems(path)
		if len(got) != len(tt.want) {
			t.Errorf("%s: problems %q, want %d", tt.name, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: problem %q, want it to say %q", tt.name, got[i], w)
			}
		}
	}
}
