// Package i18n is the message catalogue: every user-visible string of the
// bot, in Vietnamese (the default) and English, loaded with go-i18n from
// YAML files embedded in the binary.
//
// Messages are HTML (Telegram parse_mode=HTML). Template data is escaped
// here, so user-supplied text can never inject markup; values that are
// already safe HTML are passed as Raw.
package i18n

import (
	"embed"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"sort"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

//go:embed locales/*.yaml
var locales embed.FS

// Default is the language used when nothing else is known.
const Default = "vi"

// Languages are the supported languages, default first.
var Languages = []string{"vi", "en"}

// Supported reports whether lang is a supported language code.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Raw marks a template value as safe HTML that must not be escaped.
type Raw string

// Data is the data of a message template.
type Data map[string]any

// Catalog localizes message ids. It is safe for concurrent use.
type Catalog struct {
	bundle *goi18n.Bundle
	def    string

	mu   sync.Mutex
	locs map[string]*goi18n.Localizer
}

// New loads the embedded catalogues; def is the fallback language.
func New(def string) (*Catalog, error) {
	if !Supported(def) {
		return nil, fmt.Errorf("i18n: unsupported default language %q", def)
	}
	b, err := bundle()
	if err != nil {
		return nil, err
	}
	return &Catalog{bundle: b, def: def, locs: make(map[string]*goi18n.Localizer)}, nil
}

// bundle parses the embedded catalogues once per process: they cannot
// change, and a parsed bundle is only read afterwards (every Catalog, and
// every test that starts a bot, shares it).
var bundle = sync.OnceValues(func() (*goi18n.Bundle, error) {
	b := goi18n.NewBundle(language.Vietnamese)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, l := range Languages {
		names, err := files(l)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			buf, err := locales.ReadFile(name)
			if err != nil {
				return nil, fmt.Errorf("i18n: read %s: %w", name, err)
			}
			if _, err := b.ParseMessageFileBytes(buf, name); err != nil {
				return nil, fmt.Errorf("i18n: parse %s: %w", name, err)
			}
		}
	}
	return b, nil
})

// Default returns the catalogue's fallback language.
func (c *Catalog) Default() string { return c.def }

func (c *Catalog) localizer(lang string) *goi18n.Localizer {
	if !Supported(lang) {
		lang = c.def
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.locs[lang]
	if !ok {
		l = goi18n.NewLocalizer(c.bundle, lang, c.def)
		c.locs[lang] = l
	}
	return l
}

// T returns message id in lang with data filled in. A missing message is a
// programming error caught by the catalogue tests; at run time it yields the
// id itself rather than an empty reply.
func (c *Catalog) T(lang, id string, data Data) string {
	return c.localize(lang, id, nil, data)
}

// N is T for messages with plural forms chosen by count; the template sees
// the count as .Count.
func (c *Catalog) N(lang, id string, count int, data Data) string {
	if data == nil {
		data = Data{}
	}
	data["Count"] = count
	return c.localize(lang, id, count, data)
}

func (c *Catalog) localize(lang, id string, count any, data Data) string {
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: escape(data), PluralCount: count}
	s, err := c.localizer(lang).Localize(cfg)
	if err != nil && count != nil {
		// A message without plural forms asked for with a count.
		cfg.PluralCount = nil
		s, err = c.localizer(lang).Localize(cfg)
	}
	if err != nil {
		return id
	}
	return s
}

// Has reports whether id exists in lang's catalogue itself (no fallback).
func (c *Catalog) Has(lang, id string) bool {
	_, tag, err := goi18n.NewLocalizer(c.bundle, lang).LocalizeWithTag(&goi18n.LocalizeConfig{MessageID: id})
	var notFound *goi18n.MessageNotFoundErr
	if errors.As(err, &notFound) {
		return false
	}
	// Other errors (a plural message asked without a count) still mean the
	// message exists in the language that tag names.
	return tag.String() == lang
}

// files lists lang's catalogue files: locales/<lang>.yaml and one
// locales/<feature>.<lang>.yaml per feature, so features keep their
// messages apart.
func files(lang string) ([]string, error) {
	more, err := fs.Glob(locales, "locales/*."+lang+".yaml")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	return append([]string{"locales/" + lang + ".yaml"}, more...), nil
}

// IDs lists the message ids of lang's catalogue files, sorted. An id
// defined twice is an error.
func IDs(lang string) ([]string, error) {
	names, err := files(lang)
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	var ids []string
	for _, name := range names {
		buf, err := locales.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(buf, &m); err != nil {
			return nil, fmt.Errorf("i18n: parse %s: %w", name, err)
		}
		for k := range m {
			if other, dup := seen[k]; dup {
				return nil, fmt.Errorf("i18n: message %q defined in %s and %s", k, other, name)
			}
			seen[k] = name
			ids = append(ids, k)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func escape(data Data) map[string]any {
	if data == nil {
		return nil
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		switch v := v.(type) {
		case Raw:
			out[k] = string(v)
		case string:
			out[k] = html.EscapeString(v)
		case fmt.Stringer:
			out[k] = html.EscapeString(v.String())
		default:
			out[k] = v
		}
	}
	return out
}
