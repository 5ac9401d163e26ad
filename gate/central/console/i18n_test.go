package console

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/gateguard/gateguard/gate/central/store"
)

// TestCataloguesComplete: both catalogues have the same keys, none empty,
// with the same placeholders; every key the templates and the Go code name
// exists.
func TestCataloguesComplete(t *testing.T) {
	en, zh := catalogues["en"], catalogues["zh"]
	for k, v := range en {
		z, ok := zh[k]
		switch {
		case !ok:
			t.Errorf("zh lacks %q", k)
		case strings.TrimSpace(v) == "" || strings.TrimSpace(z) == "":
			t.Errorf("%q is empty in a catalogue", k)
		case placeholders(v) != placeholders(z):
			t.Errorf("%q: placeholders differ: en %q, zh %q", k, placeholders(v), placeholders(z))
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	used := map[string]bool{}
	keyRe := regexp.MustCompile(`\bt "([a-z0-9_.]+)"`)
	_ = fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, p)
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	goRe := regexp.MustCompile(`(?:T\([^,()]+, |Key: )"([a-z0-9_.]+)"`)
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		b, _ := os.ReadFile(e.Name())
		for _, m := range goRe.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: the scan is broken", len(used))
	}
	for k := range used {
		if !strings.HasSuffix(k, ".") && !has("en", k) {
			t.Errorf("key %q is used but not in the catalogues", k)
		}
	}
	// Prefixed lookups (tk, print "role." …) need every value they can take.
	for _, prefix := range [][]string{{"role.", RoleViewer, RoleGuard, RoleAdmin}, {"lang.", "en", "zh"},
		{"mode.", "normal", "locked", "free", "maintenance"}, {"gates.dir.", "entry", "exit"},
		{"alert.state.", "new", "update", "end"}, {"alert.severity.", "info", "warning", "critical"},
		{"audit.", "login", "login_failed", "logout", "acknowledge", "export", "command", "user_add", "user_remove", "roster_import", "denied"}} {
		for _, v := range prefix[1:] {
			if !has("en", prefix[0]+v) {
				t.Errorf("missing %s%s", prefix[0], v)
			}
		}
	}
	for _, d := range decisions {
		if !has("en", "decision."+d) {
			t.Errorf("missing decision.%s", d)
		}
	}
	for _, k := range kinds {
		if !has("en", "kind."+k) {
			t.Errorf("missing kind.%s", k)
		}
	}
}

func placeholders(s string) string {
	var out []string
	for _, m := range regexp.MustCompile(`\{\d\}`).FindAllString(s, -1) {
		out = append(out, m)
	}
	return strings.Join(sortStrings(out), ",")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// TestTemplatesHaveNoWords: outside {{…}} actions and tags, the templates
// hold no letters: every word is in the catalogues.
func TestTemplatesHaveNoWords(t *testing.T) {
	action := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tag := regexp.MustCompile(`(?s)<[^>]*>`)
	_ = fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, p)
		text := tag.ReplaceAllString(action.ReplaceAllString(string(b), " "), " ")
		for _, w := range strings.Fields(text) {
			for _, r := range w {
				if unicode.IsLetter(r) && w != "°C" {
					t.Errorf("%s: %q is not from a catalogue", p, w)
					break
				}
			}
		}
		// Attributes people read (alt, placeholder, aria-label, title) too.
		attr := regexp.MustCompile(`(?:alt|placeholder|aria-label|title|hx-confirm)="([^"{]*[A-Za-z\p{Han}][^"]*)"`)
		for _, m := range attr.FindAllStringSubmatch(action.ReplaceAllString(string(b), ""), -1) {
			t.Errorf("%s: attribute text %q is not from a catalogue", p, m[1])
		}
		return nil
	})
}

// TestTemplatesRenderInBothLanguages renders every page in each language
// with empty data and checks no key is missing ("[key]").
func TestTemplatesRenderInBothLanguages(t *testing.T) {
	f := newFixture(t)
	for _, lang := range Languages {
		for _, name := range pageNames {
			var data any
			switch name {
			case "login":
				data = loginData{}
			case "live":
				data = liveData{Open: []alertView{{AlertRow: store.AlertRow{AlertID: "a", Type: "fever", State: "new", Severity: "critical"}, TypeKey: "alert.type.fever", Fever: true, CanAck: true}}}
			case "gates":
				data = gatesData{Gates: []gateView{{Direction: "entry"}}, Commands: true, Modes: []string{"normal"}}
			case "log":
				data = logData{}
			case "onsite":
				data = onsiteData{}
			case "muster":
				data = musterData{}
			case "people":
				data = peoplePageData()
			case "access":
				data = accessData{Users: []User{{Username: "u", Role: "admin", Language: "en"}}, Roles: Roles, Languages: Languages}
			}
			var b strings.Builder
			p := page{Lang: lang, User: User{Username: "ada", Role: RoleAdmin, Language: lang}, Nav: name, IsAdmin: true, CanAct: true, Data: data}
			if err := f.c.pages[lang][name].ExecuteTemplate(&b, "layout", p); err != nil {
				t.Fatalf("%s/%s: %v", lang, name, err)
			}
			if m := regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.]+\]`).FindString(b.String()); m != "" {
				t.Errorf("%s/%s shows a missing key %s", lang, name, m)
			}
		}
	}
}

// TestHTMXPinned: the embedded htmx is the file whose SHA-256 the vendor
// script recorded.
func TestHTMXPinned(t *testing.T) {
	js, err := assetFiles.ReadFile("assets/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	sumFile, err := assetFiles.ReadFile("assets/htmx.min.js.sha256")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(js)
	if want := strings.Fields(string(sumFile))[0]; hex.EncodeToString(sum[:]) != want {
		t.Fatalf("assets/htmx.min.js is %x, htmx.min.js.sha256 says %s: run scripts/vendor-htmx.sh", sum, want)
	}
}
