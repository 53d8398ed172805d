package handlers

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/committeebot/committeebot/i18n"
)

// idUse finds catalogue ids in the code: T(lang, "id", …), N(lang, "id", …)
// and the ids kept in tables (descID, promptID, …).
var idUse = regexp.MustCompile(`(?:\.T\(|\.N\()[^,]+, "([a-z_]+)"\s*[,)]|(?:descID|promptID|titleID|problem|id)\s*[:=]+\s*"([a-z_]+)"`)

func TestEveryCatalogueIDUsedInCodeExists(t *testing.T) {
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("../demo/*.go")
	files = append(files, more...)
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range idUse.FindAllStringSubmatch(string(src), -1) {
			id := m[1] + m[2]
			seen++
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, id) {
					t.Errorf("%s uses %q, missing in the %s catalogue", f, id, lang)
				}
			}
		}
	}
	if seen < 50 {
		t.Errorf("found only %d catalogue uses; is the pattern still right?", seen)
	}
}
