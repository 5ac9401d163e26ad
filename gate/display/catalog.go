package display

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Languages lists the languages the display speaks (display.language).
var Languages = []string{"en", "zh-Hans"}

// Catalog is one language's messages, by key: "title.<kind>",
// "detail.<kind>", "title.remeasure.<reason>", "reason.<reason>",
// "speech.<kind>". Values may hold {name} and {temp}.
type Catalog struct {
	Lang string
	msgs map[string]string
}

// LoadCatalog returns the shipped catalogue of lang.
func LoadCatalog(lang string) (*Catalog, error) {
	b, err := messageFiles.ReadFile("messages/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("display: no message catalogue for language %q (have %s)", lang, strings.Join(Languages, ", "))
	}
	c := &Catalog{Lang: lang}
	if err := json.Unmarshal(b, &c.msgs); err != nil {
		return nil, fmt.Errorf("display: catalogue %s: %w", lang, err)
	}
	return c, nil
}

// Has reports whether the catalogue has key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// Keys returns every key of the catalogue.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		keys = append(keys, k)
	}
	return keys
}

// Text returns the message of key with {name} and {temp} replaced, or ""
// when the catalogue has no such key.
func (c *Catalog) Text(key, name, temp string) string {
	return strings.NewReplacer("{name}", name, "{temp}", temp).Replace(c.msgs[key])
}
