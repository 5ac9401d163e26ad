package display

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/lane"
)

// reasonCodes parses the gate core's source for every constant of type
// Reason, so that a reason added there without a message fails here.
func reasonCodes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../*.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				v := s.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Reason" {
					continue
				}
				for _, val := range v.Values {
					if lit, ok := val.(*ast.BasicLit); ok {
						code, _ := strconv.Unquote(lit.Value)
						codes = append(codes, code)
					}
				}
			}
		}
	}
	if len(codes) < 20 {
		t.Fatalf("found only %d reason codes in gate: the parser missed some", len(codes))
	}
	return codes
}

func catalogs(t *testing.T) []*Catalog {
	t.Helper()
	var cs []*Catalog
	for _, l := range Languages {
		c, err := LoadCatalog(l)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// TestEveryReasonHasAMessage: every reason code of the gate has a plain
// message in every catalogue, every kind a title, and every reason the lane
// shows as a remeasure prompt its own title.
func TestEveryReasonHasAMessage(t *testing.T) {
	codes := reasonCodes(t)
	for _, r := range []gate.Reason{gate.ReasonFever, gate.ReasonTooCold, gate.ReasonOverride, gate.ReasonUnscreened} {
		if !slices.Contains(codes, string(r)) {
			t.Fatalf("the parser missed %s", r)
		}
	}
	for _, c := range catalogs(t) {
		for _, code := range codes {
			if !c.Has("reason." + code) {
				t.Errorf("%s: no message for reason %s", c.Lang, code)
			}
		}
		for _, k := range lane.Kinds {
			if !c.Has("title." + string(k)) {
				t.Errorf("%s: no title for %s", c.Lang, k)
			}
		}
		for _, r := range lane.RemeasureReasons() {
			if !c.Has("title.remeasure." + string(r)) {
				t.Errorf("%s: no remeasure title for %s", c.Lang, r)
			}
		}
	}
}

// TestCataloguesHaveTheSameKeys: no message exists in one language only.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	cs := catalogs(t)
	base := cs[0].Keys()
	slices.Sort(base)
	for _, c := range cs[1:] {
		keys := c.Keys()
		slices.Sort(keys)
		for _, k := range base {
			if !c.Has(k) {
				t.Errorf("%s has %s, %s has not", cs[0].Lang, k, c.Lang)
			}
		}
		for _, k := range keys {
			if !cs[0].Has(k) {
				t.Errorf("%s has %s, %s has not", c.Lang, k, cs[0].Lang)
			}
		}
		for _, k := range keys {
			if strings.TrimSpace(c.Text(k, "", "")) == "" {
				t.Errorf("%s: %s is empty", c.Lang, k)
			}
		}
	}
}

func TestUnknownLanguage(t *testing.T) {
	if _, err := LoadCatalog("fr"); err == nil || !strings.Contains(err.Error(), `"fr"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestConfigKindsAreTheLaneKinds: display.sound.mute accepts exactly the
// lane's kinds.
func TestConfigKindsAreTheLaneKinds(t *testing.T) {
	var kinds []string
	for _, k := range lane.Kinds {
		kinds = append(kinds, string(k))
	}
	if !slices.Equal(kinds, configs.DisplayKinds) {
		t.Errorf("configs.DisplayKinds %v, lane.Kinds %v", configs.DisplayKinds, kinds)
	}
}
