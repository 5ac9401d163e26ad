package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Languages the console speaks; every key exists in each catalogue
// (TestCataloguesComplete).
var Languages = []string{"en", "zh"}

// catalogues maps a language to its messages (key → text with {0}, {1} …
// placeholders).
var catalogues = mustCatalogues()

func mustCatalogues() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		b, err := messageFiles.ReadFile("messages/" + lang + ".json")
		if err != nil {
			panic("console: catalogue " + lang + ": " + err.Error())
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic("console: catalogue " + lang + ": " + err.Error())
		}
		out[lang] = m
	}
	return out
}

// T returns the message key in lang with {0}, {1} … replaced by args. A
// missing key shows as the key in brackets, never as an empty string.
func T(lang, key string, args ...any) string {
	m, ok := catalogues[lang]
	if !ok {
		m = catalogues["en"]
	}
	s, ok := m[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, 2*len(args))
	for i, a := range args {
		pairs = append(pairs, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// has reports whether key is in lang's catalogue.
func has(lang, key string) bool {
	_, ok := catalogues[lang][key]
	return ok
}
