package handlers

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/committeebot/committeebot/domain"
	"github.com/committeebot/committeebot/i18n"
)

func TestEveryStatusAndKindHasALabelInEveryLanguage(t *testing.T) {
	cat, err := i18n.New("vi")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		for _, st := range domain.Statuses() {
			if !cat.Has(lang, "nom_status_"+string(st)) {
				t.Errorf("%s: no label for status %s", lang, st)
			}
		}
		for _, k := range []domain.AwardKind{domain.Collective, domain.Individual} {
			if !cat.Has(lang, "award_kind_"+string(k)) {
				t.Errorf("%s: no label for award kind %s", lang, k)
			}
		}
	}
}

// TestPagesStayWithinTelegramsLimit pages the worst case: many nominees of
// the longest allowed name made of characters that HTML escaping makes
// five times longer, in every status.
func TestPagesStayWithinTelegramsLimit(t *testing.T) {
	h, _ := newTestHandlers(t)
	c := domain.Committee{ID: "1", Name: strings.Repeat("&", domain.MaxNameLen), Year: 2025}
	var ns []domain.Nomination
	for i := range 120 {
		ns = append(ns, domain.Nomination{
			ID: int64(i + 1), Unit: "ABCDEFGHIJKLMNOP", Award: "CSTD_TQ", Year: 2024 - i%2,
			Nominee: strings.Repeat("&", domain.MaxNameLen), Status: domain.Statuses()[i%len(domain.Statuses())],
		})
	}
	for _, lang := range i18n.Languages {
		title := h.core.cat.N(lang, "nominations_title", len(ns), i18n.Data{"Name": c.Name})
		pages := h.nominationRoom.paginate(lang, c, ns, pageBudget-utf16Len(title)-100)
		seen := map[string]bool{}
		for i, p := range pages {
			page := title + "\n" + h.core.cat.T(lang, "nominations_page", i18n.Data{"Page": i + 1, "Pages": len(pages)}) + p
			if n := utf16Len(page); n > maxMessage {
				t.Errorf("%s page %d has %d UTF-16 units of HTML, over %d", lang, i+1, n, maxMessage)
			}
			for _, m := range regexp.MustCompile(`/nomination (\d+)<`).FindAllStringSubmatch(p, -1) {
				seen[m[1]] = true
			}
		}
		if len(seen) != len(ns) {
			t.Errorf("%s: the pages list %d nominations, want %d", lang, len(seen), len(ns))
		}
	}
}

func TestPaginateKeepsGroupsInLifecycleOrderAndMarksContinuations(t *testing.T) {
	h, _ := newTestHandlers(t)
	c := domain.Committee{ID: "1", Name: "Khối", Year: 2025}
	var ns []domain.Nomination
	for i := range 40 {
		st := domain.StatusVoting
		if i%2 == 0 {
			st = domain.StatusSubmitted
		}
		ns = append(ns, domain.Nomination{ID: int64(i + 1), Unit: "TANDTC", Award: "CTD_CP", Nominee: fmt.Sprintf("Tập thể %d", i+1), Year: 2025, Status: st})
	}
	pages := h.nominationRoom.paginate("vi", c, ns, pageBudget)
	if len(pages) != 3 {
		t.Fatalf("%d pages of %d entries, want 3 (at most %d entries a page)", len(pages), len(ns), pageEntries)
	}
	all := strings.Join(pages, "")
	if strings.Index(all, "Đã nộp") > strings.Index(all, "Đang biểu quyết") {
		t.Error("groups are not in lifecycle order")
	}
	if !strings.Contains(pages[1], h.core.cat.T("vi", "continued", nil)) {
		t.Errorf("page 2 continues a group without saying so:\n%s", pages[1])
	}
}

func TestCapitalize(t *testing.T) {
	tests := map[string]string{
		"📥 đã nộp":       "📥 Đã nộp",
		"🔎 under review": "🔎 Under review",
		"Đã nộp":         "Đã nộp",
		"":               "",
	}
	for in, want := range tests {
		if got := capitalize(in); got != want {
			t.Errorf("capitalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNominationFilter(t *testing.T) {
	n := domain.Nomination{Unit: "TANDTC", NomineeUnit: "KTNN", Award: "CTD_CP", Status: domain.StatusVoting}
	tests := []struct {
		f    nominationFilter
		keep bool
	}{
		{nominationFilter{}, true},
		{nominationFilter{status: domain.StatusVoting}, true},
		{nominationFilter{status: domain.StatusSubmitted}, false},
		{nominationFilter{award: "CTD_CP"}, true},
		{nominationFilter{award: "CTD_BO"}, false},
		{nominationFilter{unit: "TANDTC"}, true},
		{nominationFilter{unit: "KTNN"}, true},
		{nominationFilter{unit: "BTP"}, false},
	}
	for _, tt := range tests {
		if got := tt.f.keep(n); got != tt.keep {
			t.Errorf("%+v.keep = %v, want %v", tt.f, got, tt.keep)
		}
		if s := tt.f.String(); len("nl:123456:99:"+s) > 64 {
			t.Errorf("filter %q makes page buttons too long", s)
		}
	}
}

func TestNominationsCSVDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-x": "'-x", "@cmd": "'@cmd", "Nguyễn": "Nguyễn", "": "",
	} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
