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
var idUse = regexp.MustCompile(`(?:\.T\(|\.N\()[^,]+, "([a-z_]+)"\s*[,)]|(?:descID|promptID|titleID|captionID|problem|id)\s*[:=]+\s*"([a-z_]+)"|, "(min_caption_[a-z]+)"}`)

// builtID finds ids built by concatenation, which idUse cannot check.
var builtID = regexp.MustCompile(`(?:\.T\(|\.N\()[^,]+, "[a-z_]+"\s*\+`)

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
			id := m[1] + m[2] + m[3]
			seen++
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, id) {
					t.Errorf("%s uses %q, missing in the %s catalogue", f, id, lang)
				}
			}
		}
	}
	for _, f := range files {
		src, _ := os.ReadFile(f)
		for _, m := range builtID.FindAllString(string(src), -1) {
			t.Errorf("%s builds a catalogue id by concatenation (%s…): spell it out so this test sees it", f, m)
		}
	}
	tables := []map[string]string{roleIDs, ballotKindIDs, optionIDs, noticeIDs, fieldIDs, toStrings(statusIDs), toStrings(awardKindIDs)}
	for _, table := range tables {
		for code, id := range table {
			seen++
			for _, lang := range i18n.Languages {
				if !cat.Has(lang, id) {
					t.Errorf("the name of %q is %q, missing in the %s catalogue", code, id, lang)
				}
			}
		}
	}
	if seen < 50 {
		t.Errorf("found only %d catalogue uses; is the pattern still right?", seen)
	}
}

func toStrings[K ~string](m map[K]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}
