package handlers

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/i18n"
)

// idUse finds catalogue ids in the code: T(lang, "id", …), N(lang, "id", …)
// and the ids kept in tables (descID, promptID, …).
var idUse = regexp.MustCompile(`(?:\.T\(|\.N\()[^,]+, "([a-z_]+)"\s*[,)]|(?:descID|promptID|titleID|captionID|problem|id)\s*[:=]+\s*"([a-z_]+)"|, "(min_caption_[a-z]+)"}`)

// builtID finds ids built by concatenation, which idUse cannot check.
var builtID = regexp.MustCompile(`(?:\.T\(|\.N\()[^,]+, "[a-z_]+"\s*\+`)

// idUseStarts and builtIDStarts are the texts a match of idUse and
// builtID begins with (see findAll).
var (
	idUseStarts   = []string{".T(", ".N(", "descID", "promptID", "titleID", "captionID", "problem", "id", `, "min_caption_`}
	builtIDStarts = []string{".T(", ".N("}
)

// findAll is re.FindAllStringSubmatch(src, -1) for a re whose every
// match begins with one of starts: it tries re, anchored, only where one
// of them is. The regexp package has no prefix search for alternatives
// and steps its machine over every byte of the 400 KB of sources, which
// takes seconds under the race detector; strings.Index is fast.
func findAll(re *regexp.Regexp, starts []string, src string) [][]string {
	at := regexp.MustCompile(`^(?:` + re.String() + `)`)
	var from []int
	for _, s := range starts {
		for i := 0; ; {
			j := strings.Index(src[i:], s)
			if j < 0 {
				break
			}
			from = append(from, i+j)
			i += j + 1
		}
	}
	slices.Sort(from)
	var out [][]string
	end := 0 // matches do not overlap, as with FindAll
	for _, p := range slices.Compact(from) {
		if p < end {
			continue
		}
		loc := at.FindStringSubmatchIndex(src[p:])
		if loc == nil {
			continue
		}
		m := make([]string, len(loc)/2)
		for k := range m {
			if loc[2*k] >= 0 {
				m[k] = src[p+loc[2*k] : p+loc[2*k+1]]
			}
		}
		out = append(out, m)
		end = p + loc[1]
	}
	return out
}

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
		for _, m := range findAll(idUse, idUseStarts, string(src)) {
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
		for _, m := range findAll(builtID, builtIDStarts, string(src)) {
			t.Errorf("%s builds a catalogue id by concatenation (%s…): spell it out so this test sees it", f, m[0])
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
