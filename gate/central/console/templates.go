package console

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// pageNames are the page templates; each is parsed with layout.html and
// partials.html into its own set, once per language.
var pageNames = []string{"login", "error", "live", "gates", "log", "onsite", "muster", "people", "access"}

func parsePages(loc *time.Location) (map[string]map[string]*template.Template, error) {
	out := map[string]map[string]*template.Template{}
	for _, lang := range Languages {
		out[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			t, err := template.New(name).Funcs(funcs(lang, loc)).ParseFS(templateFiles,
				"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("console: templates %s: %w", name, err)
			}
			out[lang][name] = t
		}
	}
	return out, nil
}

func funcs(lang string, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return T(lang, key, args...) },
		// tk translates prefix+value, falling back to the value itself.
		"tk": func(prefix string, v any) string {
			s := fmt.Sprint(v)
			if has(lang, prefix+s) {
				return T(lang, prefix+s)
			}
			return s
		},
		"time": func(t time.Time) string {
			if t.IsZero() {
				return T(lang, "time.never")
			}
			return t.In(loc).Format("2006-01-02 15:04:05")
		},
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return T(lang, "time.never")
			}
			return t.In(loc).Format("15:04:05")
		},
		"tr": func(key string, args []any) string { return T(lang, key, args...) },
		"navItem": func(p page, key, href string) navItem {
			return navItem{Key: key, Href: href, Current: p.Nav == key}
		},
		"overrideFor": func(p page, gateName, form string) overrideView {
			return overrideView{Admin: p.IsAdmin, ID: gateName + "-" + form}
		},
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"join":  strings.Join,
		"lang":  func() string { return lang },
		"short": func(s string) string { return shortID(s) },
		"pct": func(n, d int) string {
			if d == 0 {
				return "—"
			}
			return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(d))
		},
	}
}

// navItem is one link of the navigation bar.
type navItem struct {
	Key, Href string
	Current   bool
}

// overrideView is the override part of a command form (admins only).
type overrideView struct {
	Admin bool
	ID    string
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err)
	}
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
