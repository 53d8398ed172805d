package i18n

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCataloguesHaveTheSameIDs(t *testing.T) {
	vi, err := IDs("vi")
	if err != nil {
		t.Fatal(err)
	}
	en, err := IDs("en")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(vi, en); diff != "" {
		t.Errorf("message ids differ (-vi +en):\n%s", diff)
	}
}

func TestEveryMessageRendersInEveryLanguage(t *testing.T) {
	c, err := New("vi")
	if err != nil {
		t.Fatal(err)
	}
	ids, err := IDs("vi")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages {
		for _, id := range ids {
			if !c.Has(lang, id) {
				t.Errorf("%s: message %q missing", lang, id)
				continue
			}
			for _, n := range []int{0, 1, 2, 21} {
				if got := c.N(lang, id, n, Data{}); got == "" || got == id {
					t.Errorf("%s: message %q with count %d renders as %q", lang, id, n, got)
				}
			}
		}
	}
}

func TestTemplateDataIsEscaped(t *testing.T) {
	c, err := New("vi")
	if err != nil {
		t.Fatal(err)
	}
	got := c.T("en", "unknown_command", Data{"Command": "<b>&x"})
	if strings.Contains(got, "<b>&x") || !strings.Contains(got, "&lt;b&gt;&amp;x") {
		t.Errorf("user text not escaped: %q", got)
	}
	raw := c.T("en", "help_line", Data{"Command": "help", "Description": Raw("<i>x</i>")})
	if !strings.Contains(raw, "<i>x</i>") {
		t.Errorf("Raw value was escaped: %q", raw)
	}
}

func TestUnknownLanguageFallsBackToDefault(t *testing.T) {
	c, err := New("vi")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.T("fr", "lang_set", nil), c.T("vi", "lang_set", nil); got != want {
		t.Errorf("fr = %q, want the vi text %q", got, want)
	}
	if _, err := New("fr"); err == nil {
		t.Error("New(fr) succeeded, want an error")
	}
}
