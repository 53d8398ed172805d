package config

import (
	"bufio"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/committeebot/committeebot/domain"
)

// KeyAwards is the award catalogue: a list of sections with code, kind,
// threshold, vi and en. It is read from the configuration file only: a
// list of sections does not fit an environment variable.
const KeyAwards = "awards"

// AwardConfig is one entry of the awards list, as written in the file.
// AwardCatalogue turns the list into domain awards.
type AwardConfig struct {
	// Code is the award's code in commands, e.g. CTD_CP (2–16 of A-Z, 0-9,
	// _ and -).
	Code string
	// Kind is collective or individual.
	Kind string
	// Threshold is the share of the whole electorate that must approve:
	// 0.8, 80%, 2/3, or majority (more than half).
	Threshold string
	// VI and EN are the award's names in Vietnamese and English.
	VI string
	EN string
}

// award converts the entry, or lists what is wrong with it.
func (a AwardConfig) award() (domain.Award, []string) {
	var problems []string
	if domain.ValidAwardCode(a.Code) != nil {
		problems = append(problems, fmt.Sprintf("code %q must be 2-16 characters of A-Z 0-9 _ -", a.Code))
	}
	kind := domain.AwardKind(strings.ToLower(a.Kind))
	if !kind.Valid() {
		problems = append(problems, fmt.Sprintf("unknown kind %q (want collective or individual)", a.Kind))
	}
	th, err := domain.ParseThreshold(a.Threshold)
	if err != nil {
		problems = append(problems, fmt.Sprintf("threshold %q is not a share in (0, 1] such as 0.8, 80%% or 2/3, nor majority", a.Threshold))
	}
	for _, n := range []struct{ field, value string }{{"vi", a.VI}, {"en", a.EN}} {
		if l := utf8.RuneCountInString(n.value); l == 0 || l > domain.MaxNameLen {
			problems = append(problems, fmt.Sprintf("%s: a name of 1-%d characters is required", n.field, domain.MaxNameLen))
		}
	}
	return domain.Award{Code: a.Code, Kind: kind, Threshold: th, NameVI: a.VI, NameEN: a.EN}, problems
}

// AwardCatalogue returns the awards nominations are made for: the
// configured list, or domain.DefaultAwards when the configuration names
// none. Use it after Validate succeeded; entries Validate refuses are left
// out.
func (c *Config) AwardCatalogue() []domain.Award {
	if c.Awards == nil {
		return domain.DefaultAwards()
	}
	out := make([]domain.Award, 0, len(c.Awards))
	seen := map[string]bool{}
	for _, a := range c.Awards {
		award, problems := a.award()
		if len(problems) > 0 || seen[award.Code] {
			continue
		}
		seen[award.Code] = true
		out = append(out, award)
	}
	return out
}

// awardFields maps the fields of an awards entry to their setters.
var awardFields = map[string]func(*AwardConfig, string){
	"code":      func(a *AwardConfig, s string) { a.Code = s },
	"kind":      func(a *AwardConfig, s string) { a.Kind = s },
	"threshold": func(a *AwardConfig, s string) { a.Threshold = s },
	"vi":        func(a *AwardConfig, s string) { a.VI = s },
	"en":        func(a *AwardConfig, s string) { a.EN = s },
}

// awards reads the awards list. An entry that is not a section, or has a
// field that is unknown or not a single value, is a problem named
// awards[i]; its place in the list is kept so later indexes stay right.
func (l *loader) awards() {
	switch val := l.v.Get(KeyAwards).(type) {
	case nil:
		return
	case []any:
		l.cfg.Awards = make([]AwardConfig, 0, len(val))
		for i, item := range val {
			key := fmt.Sprintf("%s[%d]", KeyAwards, i)
			var a AwardConfig
			m, ok := item.(map[string]any)
			if !ok {
				l.fail(key, "want a section with code, kind, threshold, vi and en")
			}
			names := make([]string, 0, len(m))
			for f := range m {
				names = append(names, f)
			}
			sort.Strings(names)
			for _, f := range names {
				set, known := awardFields[strings.ToLower(f)]
				switch v := m[f]; {
				case !known:
					l.fail(key, fmt.Sprintf("unknown field %q (want code, kind, threshold, vi, en)", f))
				case isSection(v):
					l.fail(key, fmt.Sprintf("%s: want a single value", f))
				case v != nil:
					set(&a, strings.TrimSpace(fmt.Sprint(v)))
				}
			}
			l.cfg.Awards = append(l.cfg.Awards, a)
		}
	default:
		l.fail(KeyAwards, "want a list of awards in the configuration file (the environment cannot set it)")
	}
}

// awardIndex reads i from a problem key "awards[i]".
func awardIndex(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, KeyAwards+"[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	return i, err == nil
}

func isSection(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// awards checks the catalogue: every entry valid, no code twice, not
// empty.
func (v *validator) awards() {
	list := v.cfg.Awards
	if list == nil {
		return
	}
	if len(list) == 0 {
		v.addf(KeyAwards, "the list is empty; leave awards out to use the default catalogue")
		return
	}
	first := map[string]int{}
	for i, a := range list {
		key := fmt.Sprintf("%s[%d]", KeyAwards, i)
		award, problems := a.award()
		if len(problems) > 0 {
			v.addf(key, "%s", strings.Join(problems, "; "))
			continue
		}
		if j, dup := first[award.Code]; dup {
			v.addf(key, "code %s is already used by %s[%d]", award.Code, KeyAwards, j)
			continue
		}
		first[award.Code] = i
	}
}

// printAwards writes the awards section for check-config: the configured
// entries as they were written (so the output loads back the same), or,
// when none are configured, the default catalogue as a comment to copy
// from.
func (c *Config) printAwards(w *bufio.Writer) {
	if c.Awards != nil {
		fmt.Fprintf(w, "%s:\n", KeyAwards)
		for _, a := range c.Awards {
			writeAward(w, "", a.Code, a.Kind, a.Threshold, a.VI, a.EN)
		}
		return
	}
	fmt.Fprintf(w, "# %s: not set; the default catalogue applies:\n# %s:\n", KeyAwards, KeyAwards)
	for _, a := range domain.DefaultAwards() {
		writeAward(w, "# ", a.Code, string(a.Kind), a.Threshold.String(), a.NameVI, a.NameEN)
	}
}

func writeAward(w *bufio.Writer, lead, code, kind, threshold, vi, en string) {
	fmt.Fprintf(w, "%s  - code: %s\n", lead, quote(code))
	fmt.Fprintf(w, "%s    kind: %s\n", lead, quote(kind))
	fmt.Fprintf(w, "%s    threshold: %s\n", lead, quote(threshold))
	fmt.Fprintf(w, "%s    vi: %s\n", lead, quote(vi))
	fmt.Fprintf(w, "%s    en: %s\n", lead, quote(en))
}
